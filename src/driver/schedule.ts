import pLimit from 'p-limit';
import type { Invoker } from '../backends/invoker.js';
import { type FanoutError, JobCancelledError, TaskFailedError, toFanoutError } from '../errors.js';
import type { Task, TaskResult } from '../runtime/task-types.js';
import type { CommitLedger } from './commit-ledger.js';

/** A task to run: how to build each attempt, and how to name its input in a failure message. */
export interface TaskSpec<T extends Task = Task> {
  taskId: string;
  describe: string;
  attempt(n: number): T;
}

export interface ScheduleOptions<R extends TaskResult> {
  invoker: Invoker;
  concurrency: number;
  maxAttempts: number;
  ledger: CommitLedger<R>;
  /** First retry waits about this long, doubling each time, with full jitter. @default 100 */
  retryBaseMs?: number;
  onAttempt?(spec: TaskSpec, attempt: number): void;
  onDone?(spec: TaskSpec, attempt: number, result: R): void;
  onRetry?(spec: TaskSpec, attempt: number, error: FanoutError, delayMs: number): void;
  /** A task that will not be tried again: its last error fails the phase. */
  onGiveUp?(spec: TaskSpec, attempt: number, error: FanoutError): void;
  /** A late duplicate attempt's output, to delete: it lost the commit race. */
  onDuplicate?(result: R): Promise<void>;
  /** Stops the phase: nothing new starts and the returned promise rejects with JobCancelledError. */
  signal?: AbortSignal;
}

const MAX_DELAY_MS = 10_000;

/**
 * Runs every task to one committed attempt, at most `concurrency` at once, retrying failed attempts
 * with exponential backoff. Rejects with TaskFailedError as soon as any task exhausts its attempts
 * (or fails in a way no retry can fix); tasks not yet started are then never started.
 */
export async function runAll<R extends TaskResult>(
  specs: readonly TaskSpec[],
  o: ScheduleOptions<R>,
): Promise<void> {
  const limit = pLimit(Math.max(1, o.concurrency));
  let failed = false;
  const base = o.retryBaseMs ?? 100;

  const runOne = async (spec: TaskSpec): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (failed) return;
      try {
        o.onAttempt?.(spec, attempt);
        const result = (await o.invoker.invoke(spec.attempt(attempt))) as R;
        if (o.ledger.commit(spec.taskId, attempt, result)) o.onDone?.(spec, attempt, result);
        else await o.onDuplicate?.(result);
        return;
      } catch (err) {
        const e = toFanoutError(err);
        if (!e.retryable || attempt >= o.maxAttempts) {
          failed = true;
          o.onGiveUp?.(spec, attempt, e);
          const tries = attempt === 1 ? '1 attempt' : `${attempt} attempts`;
          throw new TaskFailedError(
            `task ${spec.taskId} (${spec.describe}) failed after ${tries}: ${e.message}`,
            {
              cause: e,
              context: { taskId: spec.taskId, attempt, input: spec.describe },
            },
          );
        }
        const delayMs = Math.round(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** (attempt - 1)));
        o.onRetry?.(spec, attempt, e, delayMs);
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  };

  await new Promise<void>((resolve, reject) => {
    let pending = specs.length;
    const cancel = () => {
      failed = true;
      limit.clearQueue();
      reject(new JobCancelledError('cancelled'));
    };
    if (o.signal?.aborted) return cancel();
    o.signal?.addEventListener('abort', cancel, { once: true });
    if (pending === 0) resolve();
    for (const spec of specs) {
      limit(() => runOne(spec)).then(
        () => {
          if (--pending === 0) {
            o.signal?.removeEventListener('abort', cancel);
            resolve();
          }
        },
        (err) => {
          o.signal?.removeEventListener('abort', cancel);
          limit.clearQueue();
          reject(err);
        },
      );
    }
  });
}
