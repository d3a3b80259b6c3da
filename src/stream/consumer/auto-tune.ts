/** Lambda's ceiling on concurrent batches per shard. */
export const MAX_LANES = 10;

/** What the tuner saw of one shard since its last look. */
export interface LaneSample {
  lanes: number;
  /** The job's own parallelization: the tuner never goes below it. */
  floor: number;
  /** Iterator age (MillisBehindLatest) at the previous and at this look. */
  previousAgeMs: number | undefined;
  ageMs: number | undefined;
  inFlight: number;
}

/** Age past which a shard counts as falling behind rather than merely busy. */
const BEHIND_MS = 1000;

/**
 * The lane count a shard should have next (`--auto-tune`): one more while its iterator age is past
 * a second and not shrinking, one fewer (down to the job's setting) when it is caught up and idle.
 * One step per look, so a burst cannot swing it from 1 to 10 at once.
 */
export function nextLanes(s: LaneSample): number {
  if (s.ageMs === undefined) return s.lanes;
  if (s.ageMs > BEHIND_MS && s.ageMs >= (s.previousAgeMs ?? 0)) return Math.min(MAX_LANES, s.lanes + 1);
  if (s.ageMs === 0 && s.inFlight === 0) return Math.max(s.floor, s.lanes - 1);
  return s.lanes;
}
