import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobDefinitionError } from '../../../src/errors.js';
import { defineJob } from '../../../src/job/define-job.js';
import { compareKeys } from '../../../src/job/key-order.js';
import {
  DEFAULT_RANGE_SAMPLE,
  rangeOf,
  rangePartitioner,
  splitPoints,
} from '../../../src/job/range-partitioner.js';
import type { Json } from '../../../src/job/types.js';

/** The oracle for rangeOf: how many points are at or below the key, counted one by one. */
const pointsAtOrBelow = (key: unknown, points: readonly unknown[]) =>
  points.filter((p) => compareKeys(p, key) <= 0).length;

/** Keys of the types a range partitioner meets, JSON round-tripped as a map task reads its plan. */
const anyKey = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer({ min: -50, max: 50 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
);

describe('splitPoints', () => {
  it('gives n - 1 points in ascending order, each a key of the sample', () => {
    fc.assert(
      fc.property(
        fc.array(anyKey, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (keys, n) => {
          const points = splitPoints(keys, n);
          expect(points).toHaveLength(n - 1);
          for (let i = 1; i < points.length; i++)
            expect(compareKeys(points[i - 1], points[i])).toBeLessThanOrEqual(0);
          for (const p of points) expect(keys.some((k) => compareKeys(k, p) === 0)).toBe(true);
        },
      ),
    );
  });

  it('cuts distinct keys into ranges that hold as many sample keys as one another, within one', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 500 }),
        fc.integer({ min: 1, max: 32 }),
        (keys, n) => {
          const points = splitPoints(keys, n);
          const counts = Array.from({ length: n }, () => 0);
          for (const k of keys) (counts[rangeOf(k, points)] as number)++;
          const expected = keys.length / n;
          for (const c of counts) expect(Math.abs(c - expected)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('balances a sample of 10,000 keys drawn from a skewed distribution to within 1%', () => {
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    // Squared uniforms: most keys crowd near 0, as real keys crowd some prefixes.
    const keys = Array.from({ length: 10_000 }, () => Math.floor(next() ** 2 * 1e9));
    const points = splitPoints(keys, 8);
    const counts = Array.from({ length: 8 }, () => 0);
    for (const k of keys) (counts[rangeOf(k, points)] as number)++;
    for (const c of counts) expect(Math.abs(c - 1250)).toBeLessThan(13);
  });

  it('gives no points for one partition or no keys: every key then goes to partition 0', () => {
    expect(splitPoints(['a', 'b', 'c'], 1)).toEqual([]);
    expect(splitPoints([], 8)).toEqual([]);
    expect(rangeOf('z', [])).toBe(0);
  });

  it('repeats a key that spans quantiles, leaving the partitions between empty rather than cutting it', () => {
    const keys = [
      ...Array.from({ length: 90 }, () => 'hot'),
      'a',
      'b',
      'c',
      'd',
      'e',
      'x',
      'y',
      'z',
      'w',
      'v',
    ];
    const points = splitPoints(keys, 4);
    expect(points).toEqual(['hot', 'hot', 'hot']);
    // Every 'hot' goes to one partition, the last whose split point is 'hot'.
    expect(rangeOf('hot', points)).toBe(3);
    expect(rangeOf('e', points)).toBe(0);
    expect(rangeOf('x', points)).toBe(3);
  });

  it('sorts the sample in the order of compareKeys: null, booleans, numbers, strings, then JSON', () => {
    expect(splitPoints(['b', 2, null, true, [1], 'a', 1, false], 8)).toEqual([
      false,
      true,
      1,
      2,
      'a',
      'b',
      [1],
    ]);
  });
});

describe('rangeOf', () => {
  it('agrees with counting the points at or below the key, for any keys and points', () => {
    fc.assert(
      fc.property(fc.array(anyKey, { maxLength: 40 }), anyKey, (raw, key) => {
        const points = JSON.parse(JSON.stringify([...raw].sort(compareKeys))) as Json[];
        expect(rangeOf(key, points)).toBe(pointsAtOrBelow(key, points));
      }),
    );
  });

  it('sends a key equal to a split point to the range that point starts', () => {
    const points = ['d', 'h', 'p'];
    expect(rangeOf('d', points)).toBe(1);
    expect(rangeOf('h', points)).toBe(2);
    expect(rangeOf('p', points)).toBe(3);
  });

  it('handles the edges: below the first point, above the last, between, and one point', () => {
    const points = ['d', 'h', 'p'];
    expect(rangeOf('', points)).toBe(0);
    expect(rangeOf('a', points)).toBe(0);
    expect(rangeOf('c~', points)).toBe(0);
    expect(rangeOf('da', points)).toBe(1);
    expect(rangeOf('o', points)).toBe(2);
    expect(rangeOf('z', points)).toBe(3);
    expect(rangeOf('\u{10000}', points)).toBe(3);
    expect(rangeOf('a', ['m'])).toBe(0);
    expect(rangeOf('m', ['m'])).toBe(1);
    expect(rangeOf('z', ['m'])).toBe(1);
  });

  it('finds the range past every copy of a repeated point', () => {
    expect(rangeOf('m', ['c', 'm', 'm', 'm', 'x'])).toBe(4);
    expect(rangeOf('l', ['c', 'm', 'm', 'm', 'x'])).toBe(1);
    expect(rangeOf('n', ['c', 'm', 'm', 'm', 'x'])).toBe(4);
  });

  it('compares strings among other keys as compareKeys does, a string key against a number point too', () => {
    const points: Json[] = [null, 5, 'b', [1]];
    expect(rangeOf(false, points)).toBe(1);
    expect(rangeOf(5, points)).toBe(2);
    expect(rangeOf(1e9, points)).toBe(2);
    expect(rangeOf('a', points)).toBe(2);
    expect(rangeOf('b', points)).toBe(3);
    expect(rangeOf({ a: 1 }, points)).toBe(4);
  });
});

describe('rangePartitioner', () => {
  it('makes its plan from the sample with splitPoints and sorts the keys of each part', () => {
    const r = rangePartitioner({ sample: 500 });
    expect(r.partitionPlan.sample).toBe(500);
    expect(r.partitionPlan.make(['q', 'a', 'k', 'z', 'f', 'c'], 3)).toEqual(['f', 'q']);
    expect(r.sortKeys).toBe(true);
    expect(rangePartitioner().partitionPlan.sample).toBe(DEFAULT_RANGE_SAMPLE);
  });

  it('maps each key to the partition of its range, a key equal to a split point to the range it starts', () => {
    const { partitioner } = rangePartitioner();
    const plan = ['f', 'q'];
    expect(['a', 'f', 'g', 'q', 'z'].map((k) => partitioner(k, 3, plan))).toEqual([0, 1, 1, 2, 2]);
  });

  it('refuses a plan that is not the split points for n partitions, without a retry', () => {
    const { partitioner } = rangePartitioner();
    for (const plan of [undefined, null, { points: [] }, ['a', 'b', 'c']]) {
      let thrown: unknown;
      try {
        partitioner('k', 3, plan as Json);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(JobDefinitionError);
      expect((thrown as JobDefinitionError).retryable).toBe(false);
      expect((thrown as Error).message).toContain('rangePartitioner needs the split points');
    }
  });

  it('spreads into a stage that defineJob accepts', () => {
    const job = defineJob({
      name: 'ranged',
      map(line, emit) {
        emit(line, null);
      },
      reduce(key, _values, emit) {
        emit(key, null);
      },
      ...rangePartitioner({ sample: 100 }),
    });
    const stage = job.stages[0];
    expect(stage?.sortKeys).toBe(true);
    expect(stage?.partitionPlan?.sample).toBe(100);
  });
});

describe('defineJob: partitionPlan and sortKeys', () => {
  const base = {
    name: 'j',
    map() {},
    reduce() {},
  };

  it.each([
    [
      { partitionPlan: { sample: 10, make: () => [] } },
      'partitionPlan needs a partitioner to give its plan to',
    ],
    [
      { partitioner: () => 0, partitionPlan: { sample: 0, make: () => [] } },
      'partitionPlan.sample must be an integer in 1..1000000, got 0',
    ],
    [{ partitioner: () => 0, partitionPlan: { sample: 2.5, make: () => [] } }, 'got 2.5'],
    [{ partitioner: () => 0, partitionPlan: { sample: 2_000_000, make: () => [] } }, 'got 2000000'],
    [{ partitioner: () => 0, partitionPlan: { sample: 10 } }, 'partitionPlan.make must be a function'],
    [{ partitioner: () => 0, partitionPlan: 'range' }, 'partitionPlan must be an object { sample, make }'],
    [{ sortKeys: 'yes' }, 'sortKeys must be true or false when given'],
  ])('refuses %j', (extra, message) => {
    expect(() => defineJob({ ...base, ...(extra as object) })).toThrow(JobDefinitionError);
    expect(() => defineJob({ ...base, ...(extra as object) })).toThrow(message);
  });

  it('keeps a partition plan with its partitioner, and sortKeys', () => {
    const job = defineJob({
      ...base,
      partitioner: () => 0,
      partitionPlan: { sample: 10, make: () => null },
      sortKeys: false,
    });
    expect(job.stages[0]?.partitionPlan?.sample).toBe(10);
    expect(job.stages[0]?.sortKeys).toBe(false);
  });
});
