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

  it('writes a small object in one write, and a large one in chunks of about 1 MiB', async () => {
    const store = new LocalDirStore(temp().path);
    const counted = async (key: string) => {
      const inner = await store.openWriter(key);
      const writes: number[] = [];
      const writer = {
        write: (chunk: Uint8Array) => {
          writes.push(chunk.byteLength);
          return inner.write(chunk);
        },
        close: () => inner.close(),
        abort: () => inner.abort(),
      };
      return { writer, writes };
    };
    const small = await counted('small.shf');
    const out = new ShuffleObjectWriter(small.writer, 8);
    for (let p = 0; p < 8; p++) await out.append(p, Buffer.alloc(100, p), 1);
    const { slices, bytes } = await out.close();
    expect(small.writes).toEqual([bytes]);
    expect(await readShuffleIndex(store, 'small.shf')).toEqual(slices);

    const large = await counted('large.shf');
    const big = new ShuffleObjectWriter(large.writer, 2);
    for (let i = 0; i < 5; i++) await big.append(i < 3 ? 0 : 1, Buffer.alloc(512 * 1024, i), 1);
    const index = await big.close();
    expect(large.writes.length).toBe(3);
    expect(large.writes.reduce((a, b) => a + b, 0)).toBe(index.bytes);
    const back = await readSlice(store, 'large.shf', index.slices[1] as PartitionSlice);
    expect(back).toEqual(Buffer.concat([Buffer.alloc(512 * 1024, 3), Buffer.alloc(512 * 1024, 4)]));
  });
});
