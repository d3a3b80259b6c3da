/**
 * Range partitioning from a sample of the input: the output of a stage is ordered across its part
 * files (every key of part N below every key of part N+1), and with `sortKeys` within each too.
 */
import { JobDefinitionError } from '../errors.js';
import { compareKeys } from './key-order.js';
import type { Json, PartitionPlan } from './types.js';

/** Records sampled by default: enough for ranges within a few percent of even at 8-100 partitions. */
export const DEFAULT_RANGE_SAMPLE = 10_000;

export interface RangePartitionerOptions {
  /** Records of the input to sample before the map phase (1..1,000,000). @default 10,000 */
  sample?: number;
}

/** What `rangePartitioner` gives a stage: spread it into the stage's definition. */
export interface RangePartitioning<K = Json> {
  partitionPlan: PartitionPlan<K>;
  partitioner(key: K, n: number, plan?: Json): number;
  sortKeys: true;
}

/**
 * Partitions a stage's keys by range, in key order (see compareKeys), and sorts each part by key:
 * part files globally ordered. Before the map phase the driver samples `sample` records from across
 * the stage's input, runs `map` over them, and cuts the sorted keys it emitted into `n` runs of equal
 * size: the first key of each run after the first is a split point, and a key goes to the partition
 * of the last split point at or below it (a key equal to a split point starts its range). A key that
 * is more than 1/n of the sample fills a partition alone and leaves the ones whose split points
 * equal it empty: a key is never cut across two partitions.
 *
 * @example
 * export default defineJob({
 *   name: 'sort',
 *   map(line, emit) { emit(line.slice(0, 10), line.slice(10)); },
 *   reduce(key, payloads, emit) { for (const p of payloads) emit(key, p); },
 *   ...rangePartitioner({ sample: 10_000 }),
 * });
 */
export function rangePartitioner<K = Json>(options: RangePartitionerOptions = {}): RangePartitioning<K> {
  const sample = options.sample ?? DEFAULT_RANGE_SAMPLE;
  return {
    partitionPlan: { sample, make: (keys, n) => splitPoints(keys, n) as Json },
    partitioner(key, n, plan) {
      if (!Array.isArray(plan) || plan.length >= n) {
        // Not retryable: the plan is the same on every attempt.
        throw new JobDefinitionError(
          `rangePartitioner needs the split points its partition plan made (fewer than ${n}), got ${JSON.stringify(plan)?.slice(0, 100)}`,
        );
      }
      return rangeOf(key, plan);
    },
    sortKeys: true,
  };
}

/**
 * The `n - 1` split points of `keys` (in any order) for `n` partitions of about equal size: the keys
 * at the sorted sample's quantiles 1/n, 2/n, ..., in ascending order, repeated where a key spans a
 * quantile. None for one partition or no keys: every key then goes to partition 0.
 */
export function splitPoints<K>(keys: readonly K[], n: number): K[] {
  if (n <= 1 || keys.length === 0) return [];
  const sorted = [...keys].sort(compareKeys);
  const points: K[] = [];
  for (let i = 1; i < n; i++) points.push(sorted[Math.floor((i * sorted.length) / n)] as K);
  return points;
}

/**
 * The partition of `key` among ranges cut at `points` (ascending): how many points are at or below
 * it, found by binary search. Below the first point: 0; at or above the last: `points.length`.
 */
export function rangeOf(key: unknown, points: readonly unknown[]): number {
  let lo = 0;
  let hi = points.length;
  if (typeof key === 'string') {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = points[mid];
      // Strings among strings, the common case, compare with `<=` alone; compareKeys agrees.
      if (typeof p === 'string' ? p <= key : compareKeys(p, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(points[mid], key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
