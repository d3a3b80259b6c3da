import pLimit from 'p-limit';
import type { Invoker } from '../backends/invoker.js';
import {
  type FanoutError,
  JobCancelledError,
  TaskFailedError,
  ThrottledError,
  toFanoutError,
} from '../errors.js';
import type { Task, TaskResult } from '../runtime/task-types.js';
import { AdaptiveConcurrency } from './adaptive-concurrency.js';
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
  /** The limit on tasks in flight changed after throttling or recovery. */
  onConcurrency?(limit: number, reason: 'throttled' | 'recovered'): void;
  /** Least time between two cuts of the limit. @default 1000 */
  throttleCooldownMs?: number;
}

const MAX_DELAY_MS = 10_000;

/** Throttling (Lambda 429, S3 SlowDown) is the backend asking us to slow down, not the task failing. */
export const isThrottle = (e: FanoutError): boolean => e instanceof ThrottledError;

/**
 * Runs every task to one committed attempt, at most `concurrency` at once, retrying failed attempts
 * with exponential backoff. Rejects with TaskFailedError as soon as any task exhausts its attempts
 * (or fails in a way no retry can fix); tasks not yet started are then never started.
 *
 * A throttled attempt (see isThrottle) does not count against `maxAttempts`: it never ran. It gives
 * its slot back, the limit on tasks in flight is cut (AdaptiveConcurrency), and it queues again
 * after a backoff, so a throttled run slows down, still finishes, and loses or doubles no task.
 */
export async function runAll<R extends TaskResult>(
  specs: readonly TaskSpec[],
  o: ScheduleOptions<R>,
): Promise<void> {
  const limit = pLimit(Math.max(1, o.concurrency));
  const adaptive = new AdaptiveConcurrency(o.concurrency, {
    ...(o.throttleCooldownMs !== undefined && { cooldownMs: o.throttleCooldownMs }),
    onChange: (n, reason) => {
      limit.concurrency = n;
      o.onConcurrency?.(n, reason);
    },
  });
  let failed = false;
  const base = o.retryBaseMs ?? 100;
  const backoff = (n: number) => Math.round(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** (n - 1)));

  return new Promise<void>((resolve, reject) => {
    let pending = specs.length;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      o.signal?.removeEventListener('abort', cancel);
      limit.clearQueue();
      reject(err);
    };
    const cancel = () => fail(new JobCancelledError('cancelled'));

    /** One attempt of a task, inside the limiter; what follows it is decided outside. */
    const attemptOnce = async (spec: TaskSpec, attempt: number, throttles: number): Promise<void> => {
      if (failed) return;
      try {
        o.onAttempt?.(spec, attempt);
        const result = (await o.invoker.invoke(spec.attempt(attempt))) as R;
        adaptive.succeeded();
        if (o.ledger.commit(spec.taskId, attempt, result)) o.onDone?.(spec, attempt, result);
        else await o.onDuplicate?.(result);
        if (--pending === 0) {
          o.signal?.removeEventListener('abort', cancel);
          resolve();
        }
        return;
      } catch (err) {
        if (failed) return;
        const e = toFanoutError(err);
        if (e.retryable && isThrottle(e)) {
          adaptive.throttled();
          const delayMs = backoff(Math.min(throttles + 1, 8));
          o.onRetry?.(spec, attempt, e, delayMs);
          setTimeout(() => submit(spec, attempt, throttles + 1), delayMs);
          return;
        }
        if (!e.retryable || attempt >= o.maxAttempts) {
          o.onGiveUp?.(spec, attempt, e);
          const tries = attempt === 1 ? '1 attempt' : `${attempt} attempts`;
          fail(
            new TaskFailedError(
              `task ${spec.taskId} (${spec.describe}) failed after ${tries}: ${e.message}`,
              {
                cause: e,
                context: { taskId: spec.taskId, attempt, input: spec.describe },
              },
            ),
          );
          return;
        }
        const delayMs = backoff(attempt);
        o.onRetry?.(spec, attempt, e, delayMs);
        setTimeout(() => submit(spec, attempt + 1, throttles), delayMs);
      }
    };
    const submit = (spec: TaskSpec, attempt: number, throttles: number) => {
      if (failed) return;
      limit(() => attemptOnce(spec, attempt, throttles)).catch((err: unknown) => fail(toFanoutError(err)));
    };

    if (o.signal?.aborted) return cancel();
    o.signal?.addEventListener('abort', cancel, { once: true });
    if (pending === 0) resolve();
    for (const spec of specs) submit(spec, 1, 0);
  });
}
