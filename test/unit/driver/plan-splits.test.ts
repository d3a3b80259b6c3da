import { describe, expect, it } from 'vitest';
import { ASSUMED_RATIO } from '../../../src/driver/estimate-sizes.js';
import { describeInput, planMapInputs, splitObject } from '../../../src/driver/plan-splits.js';

const obj = (key: string, size: number) => ({ store: 'file:///data/', key, size });

describe('splitObject', () => {
  it.each([
    { size: 0, splitSize: 10, ranges: [[0, 0]] },
    { size: 10, splitSize: 10, ranges: [[0, 10]] },
    {
      size: 11,
      splitSize: 10,
      ranges: [
        [0, 10],
        [10, 11],
      ],
    },
    {
      size: 25,
      splitSize: 10,
      ranges: [
        [0, 10],
        [10, 20],
        [20, 25],
      ],
    },
  ])('cuts $size bytes at $splitSize into $ranges', ({ size, splitSize, ranges }) => {
    expect(splitObject(obj('a.txt', size), splitSize).map((s) => [s.start, s.end])).toEqual(ranges);
  });

  it.each([
    ['a.txt.gz', 'gzip'],
    ['a.txt.br', 'brotli'],
    ['a.log.zst', 'zstd'],
    ['a.log.bz2', 'bzip2'],
    ['a.xz', 'xz'],
    ['a.zip', 'zip'],
    ['a.lz4', 'lz4'],
  ])('keeps %s whole, marked %s by its name', (key, compression) => {
    const splits = splitObject(obj(key, 1000), 10);
    expect(splits).toEqual([{ store: 'file:///data/', key, start: 0, end: 1000, size: 1000, compression }]);
  });

  it('keeps an object whole whose first bytes showed a compression, whatever its name', () => {
    const splits = splitObject({ ...obj('a.txt', 1000), compression: 'gzip' }, 10);
    expect(splits).toEqual([
      { store: 'file:///data/', key: 'a.txt', start: 0, end: 1000, size: 1000, compression: 'gzip' },
    ]);
  });

  it('marks no compression on the splits of a plain object', () => {
    for (const split of splitObject(obj('a.txt', 25), 10)) expect(split).not.toHaveProperty('compression');
  });

  it('gives every split the etag its object was listed with, for the reader to check', () => {
    const splits = splitObject({ ...obj('a.txt', 25), etag: '"v1"' }, 10);
    expect(splits.map((s) => s.etag)).toEqual(['"v1"', '"v1"', '"v1"']);
    expect(splitObject(obj('b.txt', 5), 10)[0]).not.toHaveProperty('etag');
  });
});

describe('planMapInputs', () => {
  it('packs small files together up to the split size', () => {
    const tasks = planMapInputs([obj('a', 3), obj('b', 3), obj('c', 3), obj('d', 3)], 7);
    expect(tasks.map((t) => t.splits.map((s) => s.key))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(tasks.map((t) => t.bytes)).toEqual([6, 6]);
  });

  it('gives each full-size split its own task and packs the tails', () => {
    const tasks = planMapInputs([obj('big', 25), obj('small', 4)], 10);
    expect(tasks.map((t) => t.splits.map((s) => `${s.key}@${s.start}`))).toEqual([
      ['big@0'],
      ['big@10'],
      ['big@20', 'small@0'],
    ]);
  });

  it('covers every byte of every object exactly once', () => {
    const objects = Array.from({ length: 30 }, (_, i) => obj(`f${i}`, (i * 37) % 101));
    const tasks = planMapInputs(objects, 16);
    const covered = new Map<string, number>();
    for (const t of tasks)
      for (const s of t.splits) covered.set(s.key, (covered.get(s.key) ?? 0) + s.end - s.start);
    for (const o of objects) expect(covered.get(o.key)).toBe(o.size);
  });

  it('plans nothing for no input', () => {
    expect(planMapInputs([], 10)).toEqual([]);
  });

  const MB = 1e6;
  const DEFAULT_SPLIT = 64 * 2 ** 20;

  it('packs four gzip files of the same size by the text they hold: two or more tasks at the default split size', () => {
    // Four 10 MB gzip files of 23 MB of text each (their ISIZE, read by estimateSizes).
    const gz = [0, 1, 2, 3].map((i) => ({ ...obj(`part-${i}.txt.gz`, 10 * MB), uncompressedSize: 23 * MB }));
    const tasks = planMapInputs(gz, DEFAULT_SPLIT);
    expect(tasks.length).toBeGreaterThanOrEqual(2);
    expect(tasks.map((t) => t.splits.map((s) => s.key))).toEqual([
      ['part-0.txt.gz', 'part-1.txt.gz'],
      ['part-2.txt.gz', 'part-3.txt.gz'],
    ]);
    // A task's bytes are still those stored.
    expect(tasks.map((t) => t.bytes)).toEqual([20 * MB, 20 * MB]);
  });

  it(`takes a compressed object with no estimate to hold ${ASSUMED_RATIO} times its size`, () => {
    const br = [0, 1, 2, 3].map((i) => obj(`part-${i}.txt.br`, 10 * MB));
    expect(planMapInputs(br, DEFAULT_SPLIT).map((t) => t.splits.length)).toEqual([1, 1, 1, 1]);
    // Sniffed as gzip by its first bytes, whatever its name.
    const sniffed = [0, 1].map((i) => ({ ...obj(`part-${i}.log`, 10 * MB), compression: 'gzip' as const }));
    expect(planMapInputs(sniffed, DEFAULT_SPLIT)).toHaveLength(2);
  });

  it('gives a compressed object its own task when its text fills a split, and packs plain files by their bytes as before', () => {
    const big = { ...obj('big.gz', 20 * MB), uncompressedSize: 80 * MB };
    const small = [0, 1, 2, 3].map((i) => obj(`plain-${i}.txt`, 10 * MB));
    const tasks = planMapInputs([big, ...small], DEFAULT_SPLIT);
    expect(tasks.map((t) => t.splits.map((s) => s.key))).toEqual([
      ['big.gz'],
      ['plain-0.txt', 'plain-1.txt', 'plain-2.txt', 'plain-3.txt'],
    ]);
  });
});

describe('describeInput', () => {
  it('names a local split by path and an S3 split by URL', () => {
    const local = { store: 'file:///data/in', key: 'a b.txt', start: 0, end: 10, size: 10 };
    expect(describeInput({ splits: [local], bytes: 10 })).toBe('/data/in/a b.txt[0, 10)');
    const s3 = { ...local, store: 's3://bucket', key: 'logs/x.gz', end: 5 };
    expect(describeInput({ splits: [s3, local], bytes: 15 })).toBe(
      's3://bucket/logs/x.gz[0, 5) and 1 more small files',
    );
  });
});
