import { describe, expect, it } from 'vitest';
import { objectCreatedPattern } from '../../../src/cli/upload-command.js';
import { uploadTemplated } from '../../../src/driver/upload-run.js';

describe('an upload run output', () => {
  const at = new Date('2026-12-03T10:20:30Z');

  it('takes the object name without extensions, its key below the prefix, and the upload time', () => {
    expect(uploadTemplated('s3://b/out/{name}/', 'in/a.csv.gz', 'in/', at)).toBe('s3://b/out/a/');
    expect(uploadTemplated('s3://b/out/{key}/', 'in/2026/12/a.csv', 'in/', at)).toBe('s3://b/out/2026/12/a/');
    expect(uploadTemplated('s3://b/out/{date}/{name}-{time}/', 'in/x', 'in/', at)).toBe(
      's3://b/out/2026-12-03/x-10-20-30/',
    );
    expect(uploadTemplated('s3://b/{name}/', 'in/.hidden', 'in/', at)).toBe('s3://b/.hidden/');
    expect(uploadTemplated('s3://b/{key}/', 'other/y.txt', 'in/', at)).toBe('s3://b/other/y/');
  });
});

describe('the rule of an upload job', () => {
  it("matches S3's Object Created events of the bucket under the prefix", () => {
    expect(objectCreatedPattern('logs', 'in/')).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['logs'] }, object: { key: [{ prefix: 'in/' }] } },
    });
  });

  it('ends them in the suffix with a wildcard, escaping a literal star', () => {
    expect(objectCreatedPattern('logs', 'in/a*b/', '.csv').detail).toEqual({
      bucket: { name: ['logs'] },
      object: { key: [{ wildcard: 'in/a\\*b/*.csv' }] },
    });
  });
});
