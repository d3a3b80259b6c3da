import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../../../src/errors.js';
import type { ReduceInput } from '../../../src/protocol/task-types.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { encodeInputList, readInputList } from '../../../src/task/reduce-inputs.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('reduce-inputs');

const entry = (store: string, key: string, n: number): ReduceInput => ({
  store,
  key,
  slice: { offset: n * 100, length: 100 + n, records: n, crc: 4_000_000_000 + n },
});

/** Stores a list as the driver does and reads it back as a reduce task does. */
async function roundTrip(list: ReduceInput[]): Promise<ReduceInput[]> {
  const store = new LocalDirStore(temp().path);
  const stored = encodeInputList(list);
  await store.put('list.json', stored.bytes);
  return readInputList({ store: store.url, key: 'list.json', count: stored.count, crc: stored.crc });
}

describe('reduce input lists', () => {
  it('reads back every entry as it was stored, in order', async () => {
    const list = [
      entry('file:///w/', 'jobs/j/data/s0/shuffle/00/s0-m00000-a1.shf', 0),
      entry('file:///w/', 'jobs/j/data/s0/shuffle/3f/s0-m00001-a1001.shf', 1),
      entry('s3://other/', 'jobs/j/data/s0/shuffle/3f/s0-m00002-a1.shf', 2),
    ];
    const read = await roundTrip(list);
    expect(read.map((r) => ({ store: r.store, key: r.key, slice: r.slice }))).toEqual(list);
  });

  it('reads lists of one entry, of one store and of none', async () => {
    for (const list of [
      [entry('file:///w/', 'a.shf', 1)],
      [entry('file:///w/', 'a', 1), entry('file:///w/', 'ab', 2)],
      [],
    ]) {
      expect(JSON.parse(JSON.stringify(await roundTrip(list)))).toEqual(list);
    }
  });

  it('reads a list stored as an array of entries, as drivers before wrote them', async () => {
    const store = new LocalDirStore(temp().path);
    const list = [entry('file:///w/', 'x/m0.shf', 0), entry('file:///w/', 'x/m1.shf', 1)];
    const bytes = Buffer.from(JSON.stringify(list));
    await store.put('old.json', bytes);
    const { crc32 } = await import('node:zlib');
    const read = await readInputList({ store: store.url, key: 'old.json', count: 2, crc: crc32(bytes) });
    expect(read).toEqual(list);
  });

  it('refuses a list of another count than its task was given', async () => {
    const store = new LocalDirStore(temp().path);
    const stored = encodeInputList([entry('file:///w/', 'a.shf', 1)]);
    await store.put('list.json', stored.bytes);
    const err = await readInputList({ store: store.url, key: 'list.json', count: 2, crc: stored.crc }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as Error).message).toBe('reduce input list list.json holds 1 slices, expected 2');
  });
});
