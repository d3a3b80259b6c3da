import { PRICES, type PriceTable } from './prices.js';

/** What a run used (on aws), or would use on Lambda (local), counted by the driver. */
export interface Usage {
  memoryMb: number;
  arch: 'arm64' | 'x86_64';
  /** Invocations, retries and speculative copies included. */
  invocations: number;
  /** Time the attempts ran inside the function. */
  taskMs: number;
  s3Puts: number;
  s3Gets: number;
  /** @default 0 */
  s3Lists?: number;
  /** Bytes kept in S3 times how long, in GB-months (intermediate data while the job runs). @default 0 */
  storedGbMonths?: number;
}

/** The estimated cost of a run on AWS, in US dollars, with what it is made of. */
export interface CostEstimate {
  usd: number;
  lambdaGbSeconds: number;
  invocations: number;
  s3Requests: number;
  /** The total by line, in US dollars. */
  breakdown: {
    lambdaCompute: number;
    lambdaRequests: number;
    s3Put: number;
    s3Get: number;
    s3List: number;
    s3Storage: number;
  };
}

/**
 * Estimates a run's cost from a price table: Lambda GB-seconds and requests, S3 requests by type
 * and storage. Billed duration rounds each invocation up to the millisecond and includes start-up,
 * so the real bill is a little higher.
 */
export function estimateCost(u: Usage, prices: PriceTable = PRICES): CostEstimate {
  const lambdaGbSeconds = (u.taskMs / 1000) * (u.memoryMb / 1024);
  const lists = u.s3Lists ?? 0;
  const breakdown = {
    lambdaCompute: lambdaGbSeconds * prices.lambda.gbSecond[u.arch],
    lambdaRequests: u.invocations * prices.lambda.request,
    s3Put: u.s3Puts * prices.s3.put,
    s3Get: u.s3Gets * prices.s3.get,
    s3List: lists * prices.s3.list,
    s3Storage: (u.storedGbMonths ?? 0) * prices.s3.storageGbMonth,
  };
  const usd = Object.values(breakdown).reduce((a, b) => a + b, 0);
  return {
    usd,
    lambdaGbSeconds,
    invocations: u.invocations,
    s3Requests: u.s3Puts + u.s3Gets + lists,
    breakdown,
  };
}

/** What one stage asked of it, for its S3 requests. */
export interface StageShape {
  /** Splits read by the map tasks. */
  splits: number;
  mapTasks: number;
  partitions: number;
  /** Slices the reducers read, one per non-empty partition of each map output (or merge). */
  slices: number;
  /** Merge tasks of the combining tier, each reading its group's map outputs whole. @default 0 */
  merges?: number;
}

/**
 * A stage's S3 requests, roughly: a GET per split (which reads on past the split's end to finish
 * its last record; a record longer than that takes more), a PUT per shuffle object, per reducer input
 * list, part file and its move, a GET per input list and per slice, a few PUTs of job state, and a
 * LIST or two (the reducers' outputs, the shuffle prefix removed).
 */
export function stageRequests(s: StageShape): { s3Gets: number; s3Puts: number; s3Lists: number } {
  // Merging: a GET per merge's list and per map output it reads, a PUT per list and per merge.
  const merges = s.merges ?? 0;
  const merging = merges > 0 ? { gets: merges + s.mapTasks, puts: 2 * merges } : { gets: 0, puts: 0 };
  return {
    s3Gets: s.splits + s.partitions + s.slices + merging.gets,
    s3Puts: s.mapTasks + 3 * s.partitions + 6 + merging.puts,
    s3Lists: 2,
  };
}
