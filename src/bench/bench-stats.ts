/** The arithmetic of a bench: medians, throughput, speedup and efficiency against the lowest concurrency. */

/** The middle value of a non-empty list (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Input megabytes (10^6 bytes) per second of wall time. */
export function megabytesPerSecond(bytes: number, wallMs: number): number {
  return wallMs > 0 ? bytes / 1e6 / (wallMs / 1000) : 0;
}

/** What one concurrency's runs came to, before cost. */
export interface ScalingPoint {
  concurrency: number;
  /** Wall time of every timed run at this concurrency, in the order they ran. */
  wallMs: number[];
  medianWallMs: number;
  /** Input MB (10^6 bytes) per second of the median wall time. */
  mbPerSec: number;
  /** Median wall time at the lowest concurrency over the median wall time here. */
  speedup: number;
  /** Speedup over the ideal one, `concurrency / lowest concurrency`: 1 is linear scaling. */
  efficiency: number;
}

/**
 * Scaling figures for each concurrency from the wall times of its runs, against the lowest
 * concurrency measured: the points come back in ascending order of concurrency.
 *
 * @example scaling(1e8, new Map([[1, [10_000]], [2, [6_000]]]))[1] // { speedup: 1.67, efficiency: 0.83, ... }
 */
export function scaling(inputBytes: number, wallMs: ReadonlyMap<number, readonly number[]>): ScalingPoint[] {
  const levels = [...wallMs.keys()].sort((a, b) => a - b);
  const lowest = levels[0];
  if (lowest === undefined) return [];
  const base = median(wallMs.get(lowest) ?? []);
  return levels.map((concurrency) => {
    const times = [...(wallMs.get(concurrency) ?? [])];
    const medianWallMs = median(times);
    const speedup = medianWallMs > 0 ? base / medianWallMs : 0;
    return {
      concurrency,
      wallMs: times,
      medianWallMs,
      mbPerSec: megabytesPerSecond(inputBytes, medianWallMs),
      speedup,
      efficiency: speedup / (concurrency / lowest),
    };
  });
}

/** One timed run of a bench: its place in the plan. */
export interface PlannedRun {
  concurrency: number;
  /** 1-based. */
  repeat: number;
}

/**
 * The order of a bench's timed runs: every concurrency once per repeat, ascending in odd repeats and
 * descending in even ones, so a machine that warms up or slows down over the bench does not favour
 * the concurrencies that happen to run first.
 *
 * @example runOrder([1, 2, 4], 2) // c1 c2 c4, then c4 c2 c1
 */
export function runOrder(concurrencies: readonly number[], repeats: number): PlannedRun[] {
  const ascending = [...concurrencies].sort((a, b) => a - b);
  const runs: PlannedRun[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    const order = repeat % 2 === 1 ? ascending : [...ascending].reverse();
    for (const concurrency of order) runs.push({ concurrency, repeat });
  }
  return runs;
}
