import { UsageError } from '../errors.js';

/**
 * What `mr plan` assumes of the machines a job runs on. Every figure is documented here and in the
 * README, and each can be set with `mr plan --set name=value`; `mr plan --calibrate` measures the four
 * that depend on the job (its rates and sizes) on a sample of the input.
 */
export interface PlanModel {
  /** One function's S3 read throughput, MB/s (10^6 bytes), at 1 GB of memory or more. */
  readMBps: number;
  /** One function's S3 write throughput, MB/s. */
  writeMBps: number;
  /** Input one core maps per second, MB/s: this job's own rate (`--calibrate` measures it). */
  mapMBps: number;
  /** Shuffle bytes one core reduces per second, MB/s (`--calibrate` measures it). */
  reduceMBps: number;
  /** Shuffle bytes written per input byte, after any combine (`--calibrate` measures it). */
  shuffleRatio: number;
  /** Output bytes written per shuffle byte (`--calibrate` measures it). */
  outputRatio: number;
  /** A new function environment's start, ms: a worker thread's start on the local backend. */
  coldStartMs: number;
  /** New environments AWS starts per function: this many at once, and this many more each 10 s. */
  rampPer10s: number;
  /** Functions of the account at once (1,000 by default on AWS). */
  accountConcurrency: number;
  /** S3 requests per second per prefix before it answers 503 SlowDown. */
  putsPerSecond: number;
  getsPerSecond: number;
  /**
   * Prefixes the shuffle objects are spread over (see shuffleKey): S3's per-prefix rates apply to
   * each, once S3 has split its partitions to match.
   */
  shufflePrefixes: number;
  /** Time to first byte of one S3 request, ms. */
  requestMs: number;
  /** Ranged GETs a reducer keeps in flight. */
  readsInFlight: number;
  /** Invocations the driver sends per second (bench/invoke-rate.ts measures it). */
  invokesPerSecond: number;
  /** Memory at which a function has one full vCPU, MB: below it, it computes proportionally slower. */
  fullCoreMb: number;
  /** Input bytes per record, for the records a simulated task reports (`--calibrate` measures it). */
  recordBytes: number;
  /**
   * The simulation's spread of task times: each attempt's reading and computing take up to this
   * fraction more or less than the model says (uniform, seeded). The estimate ignores it.
   */
  taskJitter: number;
  /** Share of simulated attempts that straggle (a slow host, a noisy neighbour): 0 for none. */
  stragglerRate: number;
  /** How many times longer a straggling attempt runs. */
  stragglerSlowdown: number;
  /** Share of simulated attempts that fail part-way with a retryable error: 0 for none. */
  failureRate: number;
}

/**
 * The defaults: AWS's published limits and throughputs measured by others (FIELD.md: about 100 MB/s
 * read and 90 MB/s write per function at 1 GB; 1,000 new environments per 10 s per function; 1,000
 * functions per account; 3,500 PUT and 5,500 GET per second per prefix; a full vCPU at 1,769 MB), and
 * for the job's own rates what the built-in word count does on one core here (the written-out
 * JavaScript word count is about half as fast): measure your job with `--calibrate`.
 */
export const DEFAULT_MODEL: PlanModel = {
  readMBps: 100,
  writeMBps: 90,
  mapMBps: 80,
  reduceMBps: 40,
  shuffleRatio: 1,
  outputRatio: 1,
  coldStartMs: 250,
  rampPer10s: 1000,
  accountConcurrency: 1000,
  putsPerSecond: 3500,
  getsPerSecond: 5500,
  shufflePrefixes: 256,
  requestMs: 20,
  readsInFlight: 4,
  invokesPerSecond: 1000,
  fullCoreMb: 1769,
  recordBytes: 100,
  taskJitter: 0.1,
  stragglerRate: 0.005,
  stragglerSlowdown: 4,
  failureRate: 0,
};

/** Settings that may be 0 (shares and spreads); every other must be positive. */
const MAY_BE_ZERO: ReadonlySet<string> = new Set(['taskJitter', 'stragglerRate', 'failureRate']);
/** Settings that are shares of attempts, at most 1. */
const SHARES: ReadonlySet<string> = new Set(['stragglerRate', 'failureRate']);

/** The local backend: no cold start to speak of, no ramp, and reads at the disk's pace. */
export const LOCAL_MODEL: Partial<PlanModel> = {
  readMBps: 1000,
  writeMBps: 500,
  coldStartMs: 50,
  requestMs: 0.1,
  putsPerSecond: Number.POSITIVE_INFINITY,
  getsPerSecond: Number.POSITIVE_INFINITY,
  invokesPerSecond: 20_000,
  rampPer10s: Number.POSITIVE_INFINITY,
};

/** Applies `name=value` settings to a model; one clear error for an unknown name or a bad number. */
export function withSettings(model: PlanModel, settings: readonly string[]): PlanModel {
  const out = { ...model };
  for (const s of settings) {
    const eq = s.indexOf('=');
    const name = s.slice(0, eq);
    if (eq < 1 || !(name in DEFAULT_MODEL)) {
      throw new UsageError(
        `--set ${JSON.stringify(s)}: expected name=value with a name among ${Object.keys(DEFAULT_MODEL).join(', ')}`,
      );
    }
    const value = Number(s.slice(eq + 1));
    const least = MAY_BE_ZERO.has(name) ? 0 : Number.MIN_VALUE;
    if (!Number.isFinite(value) || value < least || (SHARES.has(name) && value > 1)) {
      const expected = SHARES.has(name)
        ? 'a share from 0 to 1'
        : MAY_BE_ZERO.has(name)
          ? 'a number of 0 or more'
          : 'a positive number';
      throw new UsageError(`--set ${name}: expected ${expected}, got ${JSON.stringify(s.slice(eq + 1))}`);
    }
    out[name as keyof PlanModel] = value;
  }
  return out;
}
