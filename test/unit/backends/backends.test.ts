import { describe, expect, it } from 'vitest';
import { BACKENDS, backendNamed } from '../../../src/backends/backends.js';
import { resolveOptions } from '../../../src/driver/run-options.js';
import { UsageError } from '../../../src/errors.js';

describe('the backend registry', () => {
  it('holds every backend by name, each saying whether its tasks see only remote locations', () => {
    expect([...BACKENDS.values()].map((b) => [b.name, b.remote])).toEqual([
      ['local', false],
      ['aws', true],
      ['sim', true],
    ]);
    expect(backendNamed('aws').name).toBe('aws');
  });

  it('refuses an unknown backend naming the value and the backends there are', () => {
    expect(() => backendNamed('gcp')).toThrow(UsageError);
    expect(() => backendNamed('gcp')).toThrow('backend must be one of local, aws, sim, got "gcp"');
  });

  it('gives each backend its defaults in one place: the work folder and speculation', () => {
    const local = resolveOptions({ input: 'in' });
    expect(local).toMatchObject({ backend: 'local', workDir: '.fanout', functionName: 'fanout-runtime' });
    expect(local.speculateAfterMs).toBeUndefined();
    const aws = resolveOptions({ input: 's3://b/in/', output: 's3://b/out/wc/', backend: 'aws' });
    expect(aws).toMatchObject({ workDir: 's3://b/', speculateAfterMs: 10_000 });
    expect(() => resolveOptions({ input: 's3://b/in/', backend: 'aws' })).toThrow(/needs --output s3:\/\//);
    // A region goes to the SDK clients; the environment is left alone.
    const before = process.env.AWS_REGION;
    expect(resolveOptions({ input: 'in', region: 'eu-west-1' }).region).toBe('eu-west-1');
    expect(process.env.AWS_REGION).toBe(before);
  });
});
