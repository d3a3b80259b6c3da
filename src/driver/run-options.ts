import { availableParallelism } from 'node:os';
import type { Backend } from '../backends/open-backend.js';
import { UsageError } from '../errors.js';
import { MAX_PARTITIONS } from '../job/define-job.js';
import type { ProgressEvent } from './progress.js';

/** Options of one run. Every field has a default except the input. */
export interface RunOptions {
  /** Files, folders or globs to read. */
  input: string | readonly string[];
  /** Output folder. @default `out/<job id>` under the current directory */
  output?: string;
  /**
   * Where job state, bundles and intermediate data live: a folder, or a URL such as `s3://bucket/`.
   * @default `.fanout` under the current directory
   */
  workDir?: string;
  /** Where tasks run: worker threads here, or the deployed Lambda runtime. @default 'local' */
  backend?: Backend;
  /** aws: name or ARN of the runtime function made by `mr deploy`. @default 'fanout-runtime' */
  functionName?: string;
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
  /** Attempts per task before the job fails. @default 3 */
  maxAttempts?: number;
  /** Bytes of records a task holds in memory before spilling to local disk. @default 256 MiB */
  memoryBudget?: number;
  /** Heap limit of each local worker thread, in MiB. @default 4096 */
  workerMemoryMb?: number;
  /** First retry delay; later ones double, with jitter. @default 100 */
  retryBaseMs?: number;
  /** Keep shuffle objects and intermediate stage outputs after success. @default false */
  keepIntermediate?: boolean;
  /**
   * Read input folders that a Fanout job began to write and did not finish (no `_SUCCESS`); they
   * are refused by default, as a partial output would give a wrong answer. @default false
   */
  allowIncomplete?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /** Cancels the run: no new attempts start, workers stop, and the output is left without `_SUCCESS`. */
  signal?: AbortSignal;
}

export const MiB = 1024 * 1024;

export const DEFAULTS = {
  workDir: '.fanout',
  backend: 'local',
  functionName: 'fanout-runtime',
  splitSize: 64 * MiB,
  maxAttempts: 3,
  memoryBudget: 256 * MiB,
  workerMemoryMb: 4096,
  retryBaseMs: 100,
} as const;

export type ResolvedOptions = Required<
  Omit<
    RunOptions,
    'input' | 'output' | 'partitions' | 'onProgress' | 'signal' | 'taskTimeoutMs' | 'speculateAfterMs'
  >
> & {
  taskTimeoutMs: number | undefined;
  speculateAfterMs: number | undefined;
  input: string[];
  output: string | undefined;
  partitions: number | undefined;
  onProgress: ((event: ProgressEvent) => void) | undefined;
  signal: AbortSignal | undefined;
};

/** Applies defaults and checks ranges. @throws {UsageError} naming the bad option and its value. */
export function resolveOptions(o: RunOptions): ResolvedOptions {
  const input = typeof o.input === 'string' ? [o.input] : [...(o.input ?? [])];
  if (input.length === 0) throw new UsageError('no input given');
  return {
    input,
    output: o.output,
    workDir: o.workDir ?? DEFAULTS.workDir,
    backend: backendOf(o.backend ?? DEFAULTS.backend),
    functionName: o.functionName ?? DEFAULTS.functionName,
    taskTimeoutMs: o.taskTimeoutMs === undefined ? undefined : positiveInt('taskTimeoutMs', o.taskTimeoutMs),
    speculateAfterMs: speculation(o.speculateAfterMs, o.backend ?? DEFAULTS.backend),
    concurrency: positiveInt('concurrency', o.concurrency ?? availableParallelism()),
    partitions: o.partitions === undefined ? undefined : partitionCount(o.partitions),
    splitSize: positiveInt('splitSize', o.splitSize ?? DEFAULTS.splitSize),
    maxAttempts: positiveInt('maxAttempts', o.maxAttempts ?? DEFAULTS.maxAttempts),
    memoryBudget: positiveInt('memoryBudget', o.memoryBudget ?? DEFAULTS.memoryBudget),
    workerMemoryMb: positiveInt('workerMemoryMb', o.workerMemoryMb ?? DEFAULTS.workerMemoryMb),
    retryBaseMs: nonNegative('retryBaseMs', o.retryBaseMs ?? DEFAULTS.retryBaseMs),
    keepIntermediate: o.keepIntermediate ?? false,
    allowIncomplete: o.allowIncomplete ?? false,
    onProgress: o.onProgress,
    signal: o.signal,
  };
}

function speculation(ms: number | undefined, backend: string): number | undefined {
  if (ms === undefined) return backend === 'aws' ? 10_000 : undefined;
  return nonNegative('speculateAfterMs', ms) === 0 ? undefined : ms;
}

function backendOf(b: string): Backend {
  if (b !== 'local' && b !== 'aws')
    throw new UsageError(`backend must be 'local' or 'aws', got ${JSON.stringify(b)}`);
  return b;
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
