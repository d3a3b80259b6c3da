import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../../../src/errors.js';
import { readSpillPart, writeSpill } from '../../../src/mapper/spill-file.js';
import { RecordReader, RecordWriter } from '../../../src/shuffle/record-codec.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('spill-file');

/** Three partitions: k-000 .. k-029 spread over them, and an empty fourth. */
const writers = (): RecordWriter[] => {
  const ws = Array.from({ length: 4 }, () => new RecordWriter());
  for (let i = 0; i < 30; i++) ws[i % 3]?.write(`k-${String(i).padStart(3, '0')}`, i);
  return ws;
};
const keysOf = (bytes: Uint8Array): unknown[] => {
  const r = new RecordReader(bytes);
  const keys: unknown[] = [];
  while (r.next()) keys.push(r.key);
  return keys;
};

describe('map spill files', () => {
  it('reads back each partition as written', () => {
    const spill = writeSpill(join(temp().path, 'spill-0'), writers());
    expect(spill.parts.map((p) => p.records)).toEqual([10, 10, 10, 0]);
    expect(keysOf(readSpillPart(spill, 1))).toEqual(
      Array.from({ length: 10 }, (_, j) => `k-${String(j * 3 + 1).padStart(3, '0')}`),
    );
    expect(readSpillPart(spill, 3)).toHaveLength(0);
  });

  it('fails with a retryable CorruptDataError on a changed byte inside a key', () => {
    const spill = writeSpill(join(temp().path, 'spill-0'), writers());
    const bytes = readFileSync(spill.path);
    // k-013 (partition 1) becomes k-016, a key of the same partition: without a checksum, it reads back fine.
    const at = bytes.indexOf('k-013');
    bytes[at + 4] = '6'.charCodeAt(0);
    writeFileSync(spill.path, bytes);
    expect(keysOf(readSpillPart(spill, 0))).toHaveLength(10);
    let err: unknown;
    try {
      readSpillPart(spill, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).message).toMatch(
      /^checksum mismatch in spill file .*spill-0, partition 1 at/,
    );
    expect((err as CorruptDataError).retryable).toBe(true);
  });

  it('fails with a retryable CorruptDataError on a file cut short', () => {
    const spill = writeSpill(join(temp().path, 'spill-0'), writers());
    writeFileSync(spill.path, readFileSync(spill.path).subarray(0, (spill.parts[2]?.offset ?? 0) + 3));
    expect(() => readSpillPart(spill, 2)).toThrow(CorruptDataError);
  });
});
