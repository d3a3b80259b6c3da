import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../../../src/errors.js';
import type { PartitionSlice } from '../../../src/protocol/task-types.js';
import { RecordReader, RecordWriter } from '../../../src/shuffle/record-codec.js';
import { readShuffleIndex, readSlice, ShuffleObjectWriter } from '../../../src/shuffle/shuffle-object.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('shf');

async function writeObject(store: LocalDirStore) {
  const out = new ShuffleObjectWriter(await store.openWriter('s.shf'), 3);
  const w = new RecordWriter();
  w.write('a', 1);
  await out.append(0, Buffer.from(w.bytes()), 1);
  w.reset();
  w.write('c', 3);
  w.write('d', 4);
  await out.append(2, Buffer.from(w.bytes()), 2);
  return out.close();
}

describe('shuffle object', () => {
  it('indexes each partition and reads slices back', async () => {
    const store = new LocalDirStore(temp().path);
    const slices = (await writeObject(store)).slices as [PartitionSlice, PartitionSlice, PartitionSlice];
    expect(slices.map((s) => s.records)).toEqual([1, 0, 2]);
    expect(await readShuffleIndex(store, 's.shf')).toEqual(slices);
    const r = new RecordReader(await readSlice(store, 's.shf', slices[2]));
    const got: unknown[] = [];
    while (r.next()) got.push([r.key, r.value]);
    expect(got).toEqual([
      ['c', 3],
      ['d', 4],
    ]);
    expect((await readSlice(store, 's.shf', slices[1])).byteLength).toBe(0);
  });

  it('refuses a slice whose bytes changed', async () => {
    const dir = temp().path;
    const store = new LocalDirStore(dir);
    const slices = (await writeObject(store)).slices as [PartitionSlice, PartitionSlice, PartitionSlice];
    const bytes = readFileSync(join(dir, 's.shf'));
    bytes.writeUInt8(bytes.readUInt8(slices[2].offset + 1) ^ 0xff, slices[2].offset + 1);
    writeFileSync(join(dir, 's.shf'), bytes);
    await expect(readSlice(store, 's.shf', slices[2])).rejects.toThrow(CorruptDataError);
  });
});
