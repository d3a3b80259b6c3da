import pLimit from 'p-limit';
import type { Invoker } from '../backends/invoker.js';
import { backoffMs } from '../backoff.js';
import {
  type FanoutError,
  JobCancelledError,
  JobPausedError,
  TaskFailedError,
  ThrottledError,
  toFanoutError,
} from '../errors.js';
import type { Task, TaskResult } from '../protocol/task-types.js';
import { AdaptiveConcurrency } from './adaptive-concurrency.js';
import type { CommitLedger } from './commit-ledger.js';

/** A task to run: how to build each attempt, and how to name its input in a failure message. */
export interface TaskSpec<T extends Task = Task> {
  taskId: string;
  describe: string;
  attempt(n: number): T;
}

/** What happens to the attempts of a phase, in the order it happens, for one listener. */
export type AttemptEvent<R extends TaskResult = TaskResult> =
  | { type: 'started'; spec: TaskSpec; attempt: number; speculative: boolean }
  /**
   * A started attempt begins to run, on `lane` (a worker thread or function slot). It may come well
   * after `started` when the invoker holds attempts (see Invoker.prefetch), or never (throttled).
   */
  | { type: 'running'; spec: TaskSpec; attempt: number; lane: string; speculative: boolean }
  | { type: 'committed'; spec: TaskSpec; attempt: number; result: R }
  /** An attempt finished after its twin (a speculative copy, or the original) committed: discarded. */
  | { type: 'superseded'; spec: TaskSpec; attempt: number; result: R }
  /**
   * An attempt failed where its failure changes nothing: its twin had committed, it was a
   * speculative copy (the original still runs), or the phase had already failed.
   */
  | { type: 'dropped'; spec: TaskSpec; attempt: number; error: FanoutError }
  /** An attempt failed and the task goes again after `delayMs`; a throttled attempt does not count. */
  | {
      type: 'retry';
      spec: TaskSpec;
      attempt: number;
      error: FanoutError;
      delayMs: number;
      throttled: boolean;
    }
  /** A task that will not be tried again: its last error fails the phase. */
  | { type: 'gave-up'; spec: TaskSpec; attempt: number; error: FanoutError }
  /** A speculative copy of a straggler was launched. */
  | { type: 'speculated'; spec: TaskSpec; attempt: number }
  /**
   * An attempt is running far longer than its peers: past `slowAfterMs` and three times the median
   * finished attempt (or six times `slowAfterMs` while none has finished). Sent again each time its
   * running time doubles, so a hung attempt is never silent until its timeout.
   */
  | { type: 'slow'; spec: TaskSpec; attempt: number; runningMs: number; medianMs: number | undefined }
  /** The limit on tasks in flight changed after throttling or recovery. */
  | { type: 'concurrency'; limit: number; reason: 'throttled' | 'recovered' };

export interface ScheduleOptions<R extends TaskResult> {
  invoker: Invoker;
  concurrency: number;
  maxAttempts: number;
  ledger: CommitLedger<R>;
  /** First retry waits about this long, doubling each time, with full jitter. @default 100 */
  retryBaseMs?: number;
  /** Every attempt event of the phase. A listener must not throw: the scheduler does not catch it. */
  onEvent?(event: AttemptEvent<R>): void;
  /** Deletes a late duplicate attempt's output: it lost the commit race. Awaited in its slot. */
  discard?(result: R): Promise<void>;
  /**
   * Sees each committed result as it commits; an error it throws fails the phase at once, as it is
   * (not as a task failure: the task did its work). For limits over the whole phase.
   */
  checkCommitted?(taskId: string, result: R): void;
  /** Stops the phase: nothing new starts and the returned promise rejects with JobCancelledError. */
  signal?: AbortSignal;
  /**
   * Drains the phase: no attempt starts (nor is retried) after it aborts, those running finish and
   * commit, and then the returned promise rejects with JobPausedError (unless the phase finished).
   */
  drain?: AbortSignal;
  /** Least time between two cuts of the limit. @default 1000 */
  throttleCooldownMs?: number;
  /**
   * Copy an attempt that has run this long and more than twice the median finished attempt, once
   * slots are free. @default undefined (no speculation)
   */
  speculateAfterMs?: number;
  /** The least running time that counts as slow (see the `slow` event). @default 10000 */
  slowAfterMs?: number;
  /**
   * The number of every task's first attempt. A resumed run starts above the attempts of the runs
   * before it, so an attempt of those still running somewhere never writes over one of this run's
   * attempt-scoped outputs. @default 1
   */
  firstAttempt?: number;
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
 *
 * With `speculateAfterMs`, a straggler (an attempt running much longer than finished ones did) gets
 * one speculative copy once slots are free; whichever finishes first is committed and the other's
 * output is discarded through `discard`, so a slow machine or a cold function never holds up a
 * phase and nothing is counted twice.
 */
export async function runAll<R extends TaskResult>(
  specs: readonly TaskSpec[],
  o: ScheduleOptions<R>,
): Promise<void> {
  // An invoker that holds attempts for its runners (see Invoker.prefetch) is handed that many more.
  const held = o.invoker.prefetch ?? 0;
  const limit = pLimit(Math.max(1, o.concurrency) + held);
  const adaptive = new AdaptiveConcurrency(o.concurrency, {
    ...(o.throttleCooldownMs !== undefined && { cooldownMs: o.throttleCooldownMs }),
    onChange: (n, reason) => {
      limit.concurrency = n + held;
      o.onEvent?.({ type: 'concurrency', limit: n, reason });
    },
  });
  let failed = false;
  let draining = false;
  const base = o.retryBaseMs ?? 100;
  const backoff = (n: number) => backoffMs(n - 1, base, MAX_DELAY_MS);
  /** Attempt numbers are never reused: attempt-scoped output keys must not collide. */
  const lastAttempt = new Map<string, number>();
  const failures = new Map<string, number>();
  /** Attempts handed to the invoker; `started` once running (a held attempt has not: see prefetch). */
  const running = new Map<
    string,
    { spec: TaskSpec; attempt: number; started?: number; speculative: boolean; slowAtMs?: number }
  >();
  const speculated = new Set<string>();
  /** How often each attempt (`task#attempt`) was throttled, told to its next invocation. */
  const throttledTimes = new Map<string, number>();
  const durations: number[] = [];
  let watch: ReturnType<typeof setInterval> | undefined;

  return new Promise<void>((resolve, reject) => {
    let pending = specs.length;
    const finish = () => {
      if (watch) clearInterval(watch);
      o.signal?.removeEventListener('abort', cancel);
      o.drain?.removeEventListener('abort', drain);
    };
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      finish();
      limit.clearQueue();
      reject(err);
    };
    const cancel = () => fail(new JobCancelledError('cancelled'));
    const nextAttempt = (taskId: string) => {
      const n = (lastAttempt.get(taskId) ?? (o.firstAttempt ?? 1) - 1) + 1;
      lastAttempt.set(taskId, n);
      return n;
    };

    /** One attempt of a task, inside the limiter; what follows it is decided outside. */
    const attemptOnce = async (spec: TaskSpec, attempt: number, throttles: number, speculative: boolean) => {
      if (failed || draining || o.ledger.isCommitted(spec.taskId)) return;
      const id = `${spec.taskId}#${attempt}`;
      const entry: { spec: TaskSpec; attempt: number; started?: number; speculative: boolean } = {
        spec,
        attempt,
        speculative,
      };
      if (held === 0) entry.started = Date.now();
      running.set(id, entry);
      try {
        o.onEvent?.({ type: 'started', spec, attempt, speculative });
        const task = spec.attempt(attempt);
        const throttled = throttledTimes.get(id);
        const result = (await o.invoker.invoke(throttled ? { ...task, throttled } : task, (lane) => {
          entry.started = Date.now();
          o.onEvent?.({ type: 'running', spec, attempt, lane, speculative });
        })) as R;
        adaptive.succeeded();
        if (entry.started !== undefined) durations.push(Date.now() - entry.started);
        if (!o.ledger.commit(spec.taskId, attempt, result)) {
          o.onEvent?.({ type: 'superseded', spec, attempt, result });
          await o.discard?.(result);
          return;
        }
        o.onEvent?.({ type: 'committed', spec, attempt, result });
        try {
          o.checkCommitted?.(spec.taskId, result);
        } catch (err) {
          fail(toFanoutError(err));
          return;
        }
        if (--pending === 0) {
          finish();
          resolve();
        }
      } catch (err) {
        // A task already committed by its twin, or a speculative copy failing, changes nothing.
        const e = toFanoutError(err);
        if (failed || o.ledger.isCommitted(spec.taskId) || speculative) {
          o.onEvent?.({ type: 'dropped', spec, attempt, error: e });
          return;
        }
        if (e.retryable && isThrottle(e)) {
          adaptive.throttled();
          throttledTimes.set(id, (throttledTimes.get(id) ?? 0) + 1);
          const delayMs = backoff(Math.min(throttles + 1, 8));
          o.onEvent?.({ type: 'retry', spec, attempt, error: e, delayMs, throttled: true });
          setTimeout(() => submit(spec, attempt, throttles + 1, false), delayMs);
          return;
        }
        const failedSoFar = (failures.get(spec.taskId) ?? 0) + 1;
        failures.set(spec.taskId, failedSoFar);
        if (!e.retryable || failedSoFar >= o.maxAttempts) {
          o.onEvent?.({ type: 'gave-up', spec, attempt, error: e });
          const tries = failedSoFar === 1 ? '1 attempt' : `${failedSoFar} attempts`;
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
        const delayMs = backoff(failedSoFar);
        o.onEvent?.({ type: 'retry', spec, attempt, error: e, delayMs, throttled: false });
        setTimeout(() => submit(spec, nextAttempt(spec.taskId), throttles, false), delayMs);
      } finally {
        running.delete(id);
        if (draining) drained();
      }
    };
    /** Once draining and nothing runs: the phase pauses, its commits kept, unless it finished. */
    const drained = () => {
      if (running.size === 0 && pending > 0) fail(new JobPausedError('paused'));
    };
    const drain = () => {
      draining = true;
      limit.clearQueue();
      drained();
    };
    const submit = (spec: TaskSpec, attempt: number, throttles: number, speculative: boolean) => {
      if (failed || draining) return;
      limit(() => attemptOnce(spec, attempt, throttles, speculative)).then(feed, (err: unknown) =>
        fail(toFanoutError(err)),
      );
    };
    /**
     * First attempts go to the limiter a few at a time, as slots free up, never a whole phase at once:
     * each queued call holds promises and closures, about a kilobyte, 100 MB for 100,000 tasks.
     */
    let fed = 0;
    const feed = () => {
      while (!failed && !draining && fed < specs.length && limit.pendingCount < limit.concurrency) {
        const spec = specs[fed++] as TaskSpec;
        submit(spec, nextAttempt(spec.taskId), 0, false);
      }
    };

    /** Launches copies of stragglers while slots sit idle: the queue is empty, some attempts drag on. */
    const speculate = (afterMs: number) => {
      if (
        failed ||
        fed < specs.length ||
        limit.pendingCount > 0 ||
        limit.activeCount >= limit.concurrency ||
        durations.length < 3
      )
        return;
      const threshold = Math.max(afterMs, 2 * medianOf(durations));
      const now = Date.now();
      for (const { spec, started, speculative } of running.values()) {
        if (started === undefined || speculative || speculated.has(spec.taskId) || now - started < threshold)
          continue;
        if (limit.activeCount >= limit.concurrency) return;
        speculated.add(spec.taskId);
        const attempt = nextAttempt(spec.taskId);
        o.onEvent?.({ type: 'speculated', spec, attempt });
        submit(spec, attempt, 0, true);
      }
    };

    /** Reports attempts that run far longer than their peers (see the `slow` event). */
    const reportSlow = (slowAfterMs: number) => {
      const median = durations.length > 0 ? medianOf(durations) : undefined;
      const threshold = median === undefined ? 6 * slowAfterMs : Math.max(slowAfterMs, 3 * median);
      const now = Date.now();
      for (const r of running.values()) {
        if (r.started === undefined) continue;
        const ms = now - r.started;
        if (ms < Math.max(threshold, r.slowAtMs ?? 0)) continue;
        r.slowAtMs = 2 * ms;
        o.onEvent?.({ type: 'slow', spec: r.spec, attempt: r.attempt, runningMs: ms, medianMs: median });
      }
    };

    if (o.signal?.aborted) return cancel();
    o.signal?.addEventListener('abort', cancel, { once: true });
    if (o.drain?.aborted && pending > 0) return drain();
    o.drain?.addEventListener('abort', drain, { once: true });
    if (pending === 0) return resolve();
    const afterMs = o.speculateAfterMs;
    const slowAfterMs = o.slowAfterMs ?? 10_000;
    const tickMs = Math.min(1000, Math.max(10, Math.min(afterMs ?? slowAfterMs, slowAfterMs) / 4));
    watch = setInterval(() => {
      if (afterMs !== undefined) speculate(afterMs);
      if (o.onEvent) reportSlow(slowAfterMs);
    }, tickMs);
    watch.unref?.();
    feed();
  });
}

function medianOf(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
}
