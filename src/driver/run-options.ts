import { availableParallelism } from 'node:os';
import {
  type BackendName,
  backendNamed,
  DEFAULT_BACKEND,
  DEFAULT_FUNCTION_NAME,
  DEFAULT_WORK_DIR,
} from '../backends/backends.js';
import { UsageError } from '../errors.js';
import { MAX_PARTITIONS } from '../job/define-job.js';
import { type OutputFormat, resolveOutputSpec } from '../output/output-spec.js';
import { parseNotifyTarget } from './notify.js';
import { PRICES, type PriceTable, parsePrices } from './prices.js';
import type { ProgressEvent } from './progress.js';

/** Options of one run. Every field has a default except the input. */
export interface RunOptions {
  /** Files, folders or globs to read. */
  input: string | readonly string[];
  /** Output folder. @default `out/<job id>` under the current directory */
  output?: string;
  /** The part files' format, over the job's `output.format`. @default the job's, else 'jsonl' */
  outputFormat?: OutputFormat;
  /** Gzip the part files (JSONL and CSV), or not, over the job's `output.compression`. */
  outputCompression?: 'gzip' | 'none';
  /**
   * Where job state, bundles and intermediate data live: a folder, or a URL such as `s3://bucket/`.
   * @default `.fanout` under the current directory; on aws the root of the output's bucket (where
   *   `mr deploy`'s lifecycle rule expires `jobs/` and the runtime may read and write)
   */
  workDir?: string;
  /** Where tasks run: worker threads here, or the deployed Lambda runtime. @default 'local' */
  backend?: BackendName;
  /** aws: name or ARN of the runtime function made by `mr deploy`. @default 'fanout-runtime' */
  functionName?: string;
  /** aws: the function's region, passed to its SDK client. @default the SDK's chain (AWS_REGION, profile) */
  region?: string;
  /**
   * How long one attempt may run before it is abandoned and retried: locally its worker thread is
   * terminated, on aws the invocation is dropped.
   * @default 15 minutes locally (Lambda's own limit); on aws a little under the function's timeout
   */
  taskTimeoutMs?: number;
  /**
   * Launch a speculative copy of an attempt that has run this long and more than twice the median,
   * once slots are free; 0 turns it off. @default 10000 on aws, off locally (cores are not spare)
   */
  speculateAfterMs?: number;
  /** Tasks in flight at once; for the local backend, the number of worker threads. @default one per core */
  concurrency?: number;
  /** Reduce partitions of every stage that does not set its own. @default 8 */
  partitions?: number;
  /** Bytes of input per map task. @default 64 MiB */
  splitSize?: number;
  /**
   * The combining tier: between a stage's map and reduce phases, merge tasks each read this many
   * map outputs whole and write one, so each reducer reads one slice per merge instead of one per
   * map task (map tasks x partitions ranged GETs become about map tasks + merges x partitions). 0
   * turns it off. @default on remote backends, 32 for a stage of at least 32,768 slices (see
   *   mergeFanIn); off locally, where a slice costs a file read, not a request
   */
  mergeFanIn?: number;
  /** Attempts per task before the job fails. @default 3 */
  maxAttempts?: number;
  /** Bytes of records a task holds in memory before spilling to local disk. @default 256 MiB */
  memoryBudget?: number;
  /** Heap limit of each local worker thread, in MiB. @default 4096 */
  workerMemoryMb?: number;
  /** First retry delay; later ones double, with jitter. @default 100 */
  retryBaseMs?: number;
  /**
   * Continue the job of this id in the work store instead of starting a new one: committed tasks whose
   * outputs are still there are kept, the rest run. Set by resumeJob, which restores the other options.
   */
  resume?: string;
  /**
   * The new job's id (letters, digits, `.`, `_` and `-`, at most 128), for a caller that names the job
   * before it starts, as `mr submit` does. @default `<job name>-<UTC time>-<6 hex digits>`
   */
  jobId?: string;
  /**
   * When (ms since the epoch) the run starts no more attempts: those running finish and commit, and
   * the run rejects with JobPausedError, its job still `running` (paused) in the store and claimed;
   * resuming it goes on. A driver on Lambda sets it a little before its function's time limit
   * (`mr submit --reserve`, longer than a task takes) and hands over to a fresh invocation.
   */
  deadline?: number;
  /** Keep shuffle objects and intermediate stage outputs after success. @default false */
  keepIntermediate?: boolean;
  /**
   * Read input folders that a Fanout job began to write and did not finish (no `_SUCCESS`); they
   * are refused by default, as a partial output would give a wrong answer. @default false
   */
  allowIncomplete?: boolean;
  /**
   * The price table the report's cost is estimated from, or any part of it laid over the built-in
   * one (see parsePrices). @default PRICES (us-east-1)
   */
  prices?: PriceTable;
  /**
   * Where to say how the run ended: `sns:<topic-arn>` or a webhook URL (`https://…`; plain `http://`
   * only to 127.0.0.1 or localhost), each sent a JSON notice (see JobNotice): the summary on success,
   * the error and the task at fault on failure. A target that cannot be reached is a warning, never
   * the run's failure. Kept with the job's state, so a resumed run notifies the same targets.
   */
  notify?: string | readonly string[];
  onProgress?: (event: ProgressEvent) => void;
  /** Cancels the run: no new attempts start, workers stop, and the output is left without `_SUCCESS`. */
  signal?: AbortSignal;
}

export const MiB = 1024 * 1024;

export const DEFAULTS = {
  splitSize: 64 * MiB,
  maxAttempts: 3,
  memoryBudget: 256 * MiB,
  workerMemoryMb: 4096,
  retryBaseMs: 100,
} as const;

export type ResolvedOptions = Required<
  Omit<
    RunOptions,
    | 'input'
    | 'output'
    | 'outputFormat'
    | 'outputCompression'
    | 'partitions'
    | 'onProgress'
    | 'signal'
    | 'taskTimeoutMs'
    | 'speculateAfterMs'
    | 'mergeFanIn'
    | 'region'
    | 'backend'
    | 'resume'
    | 'notify'
    | 'jobId'
    | 'deadline'
  >
> & {
  jobId: string | undefined;
  deadline: number | undefined;
  resume: string | undefined;
  notify: string[];
  backend: BackendName;
  region: string | undefined;
  taskTimeoutMs: number | undefined;
  speculateAfterMs: number | undefined;
  mergeFanIn: number | undefined;
  input: string[];
  output: string | undefined;
  outputFormat: OutputFormat | undefined;
  outputCompression: 'gzip' | 'none' | undefined;
  partitions: number | undefined;
  onProgress: ((event: ProgressEvent) => void) | undefined;
  signal: AbortSignal | undefined;
};

/** Applies defaults and checks ranges. @throws {UsageError} naming the bad option and its value. */
export function resolveOptions(o: RunOptions): ResolvedOptions {
  const input = typeof o.input === 'string' ? [o.input] : [...(o.input ?? [])];
  if (input.length === 0) throw new UsageError('no input given');
  const backend = (o.backend ?? DEFAULT_BACKEND) as BackendName;
  const remote = backendNamed(backend).remote;
  return {
    input,
    output: o.output,
    ...outputOverrides(o),
    workDir: o.workDir ?? defaultWorkDir(remote, o.output),
    backend,
    functionName: o.functionName ?? DEFAULT_FUNCTION_NAME,
    region: o.region,
    taskTimeoutMs: o.taskTimeoutMs === undefined ? undefined : positiveInt('taskTimeoutMs', o.taskTimeoutMs),
    speculateAfterMs: speculation(o.speculateAfterMs, remote),
    mergeFanIn: o.mergeFanIn === undefined ? undefined : fanIn(o.mergeFanIn),
    concurrency: positiveInt('concurrency', o.concurrency ?? availableParallelism()),
    partitions: o.partitions === undefined ? undefined : partitionCount(o.partitions),
    splitSize: positiveInt('splitSize', o.splitSize ?? DEFAULTS.splitSize),
    maxAttempts: positiveInt('maxAttempts', o.maxAttempts ?? DEFAULTS.maxAttempts),
    memoryBudget: positiveInt('memoryBudget', o.memoryBudget ?? DEFAULTS.memoryBudget),
    workerMemoryMb: positiveInt('workerMemoryMb', o.workerMemoryMb ?? DEFAULTS.workerMemoryMb),
    retryBaseMs: nonNegative('retryBaseMs', o.retryBaseMs ?? DEFAULTS.retryBaseMs),
    keepIntermediate: o.keepIntermediate ?? false,
    allowIncomplete: o.allowIncomplete ?? false,
    // Checked as a file of prices is: a typo in a key must not price silently at the default.
    prices: o.prices === undefined ? PRICES : parsePrices(JSON.stringify(o.prices), 'prices'),
    resume: o.resume,
    jobId: o.jobId === undefined ? undefined : jobIdOption(o.jobId),
    deadline: o.deadline === undefined ? undefined : nonNegative('deadline', o.deadline),
    notify: notifyTargets(o.notify),
    onProgress: o.onProgress,
    signal: o.signal,
  };
}

/** The format and compression asked for, each checked alone (the job's output is laid under them later). */
function outputOverrides(o: RunOptions): Pick<ResolvedOptions, 'outputFormat' | 'outputCompression'> {
  // Checked here as in a job file (gzip with arrow or parquet too); the job's own format comes later.
  resolveOutputSpec(undefined, {
    format: o.outputFormat,
    compression: o.outputCompression,
    names: { format: 'outputFormat', compression: 'outputCompression' },
  });
  return { outputFormat: o.outputFormat, outputCompression: o.outputCompression };
}

/** A job id as given: it names folders and keys in the work store. */
function jobIdOption(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new UsageError(
      `jobId must be 1 to 128 letters, digits, '.', '_' or '-' (not first), got ${JSON.stringify(id)}`,
    );
  }
  return id;
}

/** The targets as given, each checked (see parseNotifyTarget). */
function notifyTargets(n: RunOptions['notify']): string[] {
  const targets = typeof n === 'string' ? [n] : [...(n ?? [])];
  for (const t of targets) parseNotifyTarget(t);
  return targets;
}

/** Remote functions are spare capacity to copy stragglers onto; local cores are not. */
function speculation(ms: number | undefined, remote: boolean): number | undefined {
  if (ms === undefined) return remote ? 10_000 : undefined;
  return nonNegative('speculateAfterMs', ms) === 0 ? undefined : ms;
}

/**
 * The work location when none is given: `.fanout` here, or for a remote backend the root of the
 * output's bucket, which its functions may read and write.
 */
function defaultWorkDir(remote: boolean, output: string | undefined): string {
  if (!remote) return DEFAULT_WORK_DIR;
  const bucket = output === undefined ? undefined : /^s3:\/\/([^/]+)/.exec(output)?.[1];
  if (!bucket)
    throw new UsageError('a remote backend needs --output s3://bucket/prefix (or --work s3://...)');
  return `s3://${bucket}/`;
}

/** 0 (off), or at least 2 map outputs per merge. */
function fanIn(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0 || v === 1) {
    throw new UsageError(`mergeFanIn must be 0 (off) or a whole number of at least 2, got ${v}`);
  }
  return v;
}

/** The same bound as a stage's own `partitions` (see defineJob). */
function partitionCount(v: number): number {
  if (!Number.isSafeInteger(v) || v < 1 || v > MAX_PARTITIONS) {
    throw new UsageError(`partitions must be an integer in 1..${MAX_PARTITIONS}, got ${v}`);
  }
  return v;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new UsageError(`${name} must be a non-negative number, got ${v}`);
  return v;
}
