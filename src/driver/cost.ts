/** AWS's published prices (us-east-1, as of 2026); a run's cost is an estimate from these. */
export const PRICES = {
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  lambdaRequest: 0.2 / 1e6,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
} as const;

/** What an aws run used, counted by the driver. */
export interface Usage {
  memoryMb: number;
  arch: 'arm64' | 'x86_64';
  /** Invocations, retries and speculative copies included. */
  invocations: number;
  /** Time the committed attempts ran inside the function. */
  taskMs: number;
  s3Puts: number;
  s3Gets: number;
}

/** The estimated cost of a run on AWS, in US dollars, with what it is made of. */
export interface CostEstimate {
  usd: number;
  lambdaGbSeconds: number;
  invocations: number;
  s3Requests: number;
}

/**
 * Estimates a run's cost: Lambda GB-seconds and requests, S3 PUTs and GETs. Billed duration rounds
 * each invocation up to the millisecond and includes start-up, so the real bill is a little higher.
 */
export function estimateCost(u: Usage): CostEstimate {
  const lambdaGbSeconds = (u.taskMs / 1000) * (u.memoryMb / 1024);
  const usd =
    lambdaGbSeconds * PRICES.lambdaGbSecond[u.arch] +
    u.invocations * PRICES.lambdaRequest +
    u.s3Puts * PRICES.s3Put +
    u.s3Gets * PRICES.s3Get;
  return { usd, lambdaGbSeconds, invocations: u.invocations, s3Requests: u.s3Puts + u.s3Gets };
}

/** What one stage asked of it, for its S3 requests. */
export interface StageShape {
  /** Splits read by the map tasks. */
  splits: number;
  mapTasks: number;
  partitions: number;
  /** Slices the reducers read, one per non-empty partition of each map output. */
  slices: number;
}

/**
 * A stage's S3 requests, roughly: a GET per split (which reads on past the split's end to finish
 * its last record; a record longer than that takes more), a PUT per shuffle object, per reducer input
 * list, part file and its move, a GET per input list and per slice, and a few PUTs of job state.
 */
export function stageRequests(s: StageShape): { s3Gets: number; s3Puts: number } {
  return { s3Gets: s.splits + s.partitions + s.slices, s3Puts: s.mapTasks + 3 * s.partitions + 6 };
}
