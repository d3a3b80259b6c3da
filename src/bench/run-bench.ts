import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { type BackendName, backendNamed, DEFAULT_BACKEND } from '../backends/backends.js';
import { type CostEstimate, estimateCost } from '../driver/cost.js';
import { runJob } from '../driver/run-job.js';
import type { RunOptions } from '../driver/run-options.js';
import { FanoutError, JobCancelledError, UsageError } from '../errors.js';
import { isUrl, openStore } from '../store/open-store.js';
import { median, type PlannedRun, runOrder, type ScalingPoint, scaling } from './bench-stats.js';
import {
  describeDifference,
  fingerprintOutput,
  type OutputFingerprint,
  sameOutput,
} from './output-fingerprint.js';

/** Lambda memory that local task time is priced at: 1769 MB is one full vCPU. */
export const DEFAULT_BENCH_MEMORY_MB = 1769;
/** Timed runs per concurrency, by default: an odd count, so the median is one of them. */
export const DEFAULT_REPEAT = 3;
/** Untimed runs before the timed ones, by default: they bundle the job and warm the page cache. */
export const DEFAULT_WARMUP = 1;

/** Options of a bench: the job's input and run options, and the concurrencies to measure. */
export interface BenchOptions {
  /** Files, folders or globs to read, as for `runJob`. */
  input: string | readonly string[];
  /** The concurrencies to run the job at, each once per repeat; distinct positive whole numbers. */
  concurrency: readonly number[];
  /** Timed runs per concurrency. @default 3 */
  repeat?: number;
  /** Untimed runs at the lowest concurrency before the timed ones. @default 1 */
  warmup?: number;
  /**
   * A folder or `s3://` URL, absent or empty, to hold every run's output (`runs/c<N>-r<R>/`,
   * `runs/warmup-<W>/`), which is kept. @default a temporary folder, removed at the end (aws: required)
   */
  outputDir?: string;
  /** @default 'local' */
  backend?: BackendName;
  functionName?: string;
  region?: string;
  /** Job state and intermediate data. @default local: a temporary folder; aws: the output's bucket */
  workDir?: string;
  splitSize?: number;
  partitions?: number;
  /** local: the Lambda memory size the runs' task time is priced at, in MB. @default 1769 */
  memoryMb?: number;
  onProgress?: (event: BenchEvent) => void;
  /** Cancels the bench: the run under way is cancelled, and no other starts. */
  signal?: AbortSignal;
}

/** What a bench tells its caller while it runs. */
export type BenchEvent =
  | {
      type: 'run-start';
      /** 1-based, over the warm-up runs or over the timed runs. */
      index: number;
      total: number;
      concurrency: number;
      /** The repeat of a timed run; absent for a warm-up run. */
      repeat?: number;
    }
  /** A warning from a run (e.g. a concurrency far above the cores). */
  | { type: 'warning'; message: string };

/** One run of a bench, warm-up or timed. */
export interface BenchRun {
  /** `c<N>-r<R>` for a timed run, `warmup-<W>` for a warm-up run; also its output folder's name. */
  label: string;
  concurrency: number;
  /** The repeat of a timed run; absent for a warm-up run. */
  repeat?: number;
  jobId: string;
  /** From the call to `runJob` until it resolved. */
  wallMs: number;
  /** Time the committed task attempts ran. */
  taskMs: number;
  tasks: number;
  /** Kept outputs only: where the run's output is. */
  output?: string;
  /** aws: as the run reported it; local: Lambda at `memoryMb` for the same task time. */
  cost?: CostEstimate;
}

/** One concurrency's figures: scaling, and the cost of one run (the median over its repeats). */
export interface BenchPoint extends ScalingPoint {
  /** Absent on aws when a run could not read the function's configuration to price itself. */
  cost?: { usdPerRun: number; usd: number[]; lambdaGbSecondsPerRun: number; invocationsPerRun: number };
}

/** The machine the driver ran on. */
export interface BenchMachine {
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  node: string;
  platform: string;
  arch: string;
}

/** What `runBench` returns, and what `bench.json` holds. */
export interface BenchResult {
  job: { file: string; name: string };
  input: { paths: string[]; files: number; bytes: number };
  backend: BackendName;
  startedAt: string;
  machine: BenchMachine;
  options: { repeat: number; warmup: number; splitSize?: number; partitions?: number; functionName?: string };
  /**
   * How costs were found: `aws` as each run's result reports them (Lambda at the function's memory
   * and architecture, and S3 requests); `local` Lambda GB-seconds and requests only, for the same
   * task time at `memoryMb` on arm64.
   */
  costBasis: { backend: 'aws' } | { backend: 'local'; memoryMb: number; arch: 'arm64' };
  /** Every run's output held the same lines as every other's (the bench fails otherwise). */
  outputs: { agree: true; runs: number; fingerprint: OutputFingerprint };
  /** In ascending order of concurrency; speedup and efficiency are against the first. */
  points: BenchPoint[];
  runs: BenchRun[];
}

/**
 * Runs a job at each concurrency, `repeat` times each (after `warmup` untimed runs), alternating the
 * order of concurrencies between repeats, each run into its own output folder; checks that all
 * outputs hold the same lines; and returns wall times, throughput, speedup, efficiency and cost per
 * concurrency.
 *
 * @example
 * const bench = await runBench('jobs/wordcount.ts', { input: ['data/'], concurrency: [1, 2, 4] });
 * console.log(bench.points.map((p) => p.speedup));
 * @throws {UsageError} for a bad concurrency list or repeat count, a used output folder, or run options
 *   `runJob` refuses.
 * @throws {FanoutError} when two runs' outputs disagree; the message names both runs.
 */
export async function runBench(jobFile: string, options: BenchOptions): Promise<BenchResult> {
  const levels = checkConcurrencies(options.concurrency);
  const repeat = wholeNumber('repeat', options.repeat ?? DEFAULT_REPEAT, 1);
  const warmup = wholeNumber('warmup', options.warmup ?? DEFAULT_WARMUP, 0);
  const memoryMb = wholeNumber('memoryMb', options.memoryMb ?? DEFAULT_BENCH_MEMORY_MB, 128);
  const backend = options.backend ?? DEFAULT_BACKEND;
  const remote = backendNamed(backend).remote;
  if (remote && options.outputDir === undefined) {
    throw new UsageError(`the ${backend} backend needs an output folder for the runs: an s3:// URL`);
  }
  if (options.outputDir !== undefined) await requireEmpty(options.outputDir);
  const file = resolve(jobFile);
  const startedAt = new Date().toISOString();
  const scratch = await mkdtemp(join(tmpdir(), 'fanout-bench-'));
  const runsRoot =
    options.outputDir === undefined ? join(scratch, 'runs') : joinLocation(options.outputDir, 'runs');
  const base: Omit<RunOptions, 'concurrency'> = {
    input: options.input,
    backend,
    ...(options.functionName !== undefined && { functionName: options.functionName }),
    ...(options.region !== undefined && { region: options.region }),
    ...(options.splitSize !== undefined && { splitSize: options.splitSize }),
    ...(options.partitions !== undefined && { partitions: options.partitions }),
    // Bench runs keep their state out of the default work store, so `mr jobs` does not list them.
    ...(options.workDir !== undefined
      ? { workDir: options.workDir }
      : !remote && { workDir: join(scratch, 'work') }),
  };
  let keepScratch = false;
  try {
    const plan: { label: string; run: PlannedRun | undefined; concurrency: number }[] = [];
    for (let w = 1; w <= warmup; w++)
      plan.push({ label: `warmup-${w}`, run: undefined, concurrency: levels[0] as number });
    for (const run of runOrder(levels, repeat))
      plan.push({ label: `c${run.concurrency}-r${run.repeat}`, run, concurrency: run.concurrency });

    const runs: BenchRun[] = [];
    let reference: { label: string; fingerprint: OutputFingerprint } | undefined;
    let first: Awaited<ReturnType<typeof runJob>> | undefined;
    for (const step of plan) {
      if (options.signal?.aborted) throw new JobCancelledError('bench cancelled');
      options.onProgress?.({
        type: 'run-start',
        index: step.run ? runs.length - warmup + 1 : runs.length + 1,
        total: step.run ? plan.length - warmup : warmup,
        concurrency: step.concurrency,
        ...(step.run && { repeat: step.run.repeat }),
      });
      const output = joinLocation(runsRoot, step.label);
      let taskMs = 0;
      const t0 = performance.now();
      const result = await runJob(file, {
        ...base,
        concurrency: step.concurrency,
        output,
        ...(options.signal && { signal: options.signal }),
        onProgress: (e) => {
          if (e.type === 'task-done') taskMs += e.metrics.ms;
          else if (e.type === 'warning') options.onProgress?.({ type: 'warning', message: e.message });
        },
      });
      // To a tenth of a millisecond: finer digits are noise.
      const wallMs = Math.round((performance.now() - t0) * 10) / 10;
      first ??= result;
      const fingerprint = await fingerprintOutput(openStore(result.output), result.parts);
      if (!reference) reference = { label: step.label, fingerprint };
      else if (!sameOutput(reference.fingerprint, fingerprint)) {
        // Temporary runs stay for a look at how they differ; runs in an output folder stay anyway.
        keepScratch = options.outputDir === undefined;
        throw new FanoutError(
          `outputs disagree: run ${reference.label} and run ${step.label} (${describeDifference(reference.fingerprint, fingerprint)}); both outputs are kept under ${runsRoot}`,
        );
      }
      const cost = remote
        ? result.cost
        : estimateCost({
            memoryMb,
            arch: 'arm64',
            invocations: result.counters.tasks,
            taskMs,
            s3Puts: 0,
            s3Gets: 0,
          });
      runs.push({
        label: step.label,
        concurrency: step.concurrency,
        ...(step.run && { repeat: step.run.repeat }),
        jobId: result.jobId,
        wallMs,
        taskMs,
        tasks: result.counters.tasks,
        ...(options.outputDir !== undefined && { output: result.output }),
        ...(cost && { cost }),
      });
      // A temporary run's output has served once it agrees with the first run's, which is kept to
      // show beside one that does not: the disk need not hold them all.
      if (options.outputDir === undefined && reference.label !== step.label)
        await rm(output, { recursive: true, force: true });
    }
    if (!first || !reference) throw new UsageError('the bench ran nothing');
    const timed = runs.filter((r) => r.repeat !== undefined);
    const points = scaling(
      first.counters.inputBytes,
      new Map(levels.map((c) => [c, timed.filter((r) => r.concurrency === c).map((r) => r.wallMs)])),
    ).map((p) =>
      withCost(
        p,
        timed.filter((r) => r.concurrency === p.concurrency),
      ),
    );
    return {
      job: { file, name: first.name },
      input: {
        paths: (typeof options.input === 'string' ? [options.input] : [...options.input]).map((i) =>
          isUrl(i) ? i : resolve(i),
        ),
        files: first.counters.inputFiles,
        bytes: first.counters.inputBytes,
      },
      backend,
      startedAt,
      machine: machine(),
      options: {
        repeat,
        warmup,
        ...(options.splitSize !== undefined && { splitSize: options.splitSize }),
        ...(options.partitions !== undefined && { partitions: options.partitions }),
        ...(remote && options.functionName !== undefined && { functionName: options.functionName }),
      },
      costBasis: remote ? { backend: 'aws' } : { backend: 'local', memoryMb, arch: 'arm64' },
      outputs: { agree: true, runs: runs.length, fingerprint: reference.fingerprint },
      points,
      runs,
    };
  } finally {
    if (!keepScratch) await rm(scratch, { recursive: true, force: true });
  }
}

/** A point with the median cost of its runs, when every run has a cost. */
function withCost(point: ScalingPoint, runs: readonly BenchRun[]): BenchPoint {
  const costs = runs.map((r) => r.cost);
  if (costs.length === 0 || costs.some((c) => c === undefined)) return point;
  const known = costs as CostEstimate[];
  return {
    ...point,
    cost: {
      usdPerRun: median(known.map((c) => c.usd)),
      usd: known.map((c) => c.usd),
      lambdaGbSecondsPerRun: median(known.map((c) => c.lambdaGbSeconds)),
      invocationsPerRun: median(known.map((c) => c.invocations)),
    },
  };
}

/**
 * The concurrencies in ascending order.
 * @throws {UsageError} when the list is empty, holds a number that is not a positive whole one, or
 *   holds one twice.
 */
export function checkConcurrencies(list: readonly number[]): number[] {
  if (list.length === 0) throw new UsageError('no concurrency given to bench at');
  const seen = new Set<number>();
  for (const c of list) {
    if (!Number.isSafeInteger(c) || c < 1)
      throw new UsageError(`concurrency must be a positive whole number, got ${c}`);
    if (seen.has(c)) throw new UsageError(`concurrency ${c} is listed twice`);
    seen.add(c);
  }
  return [...seen].sort((a, b) => a - b);
}

function wholeNumber(name: string, n: number, min: number): number {
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${name} must be a whole number of at least ${min}, got ${n}`);
  return n;
}

/** Refuses an output folder that holds anything: the runs' folders must be fresh. */
async function requireEmpty(dir: string): Promise<void> {
  if (!isUrl(dir) && (await stat(dir).catch(() => undefined))?.isDirectory() === false) {
    throw new UsageError(`output folder ${dir} is a file; give a new or empty folder`);
  }
  for await (const o of openStore(dir).list('')) {
    throw new UsageError(`output folder ${dir} is not empty (it holds ${o.key}); give a new or empty one`);
  }
}

function joinLocation(root: string, name: string): string {
  return isUrl(root) ? `${root.replace(/\/+$/, '')}/${name}` : join(root, name);
}

function machine(): BenchMachine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}
