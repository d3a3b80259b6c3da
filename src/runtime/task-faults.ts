import { toFanoutError, UserCodeError, WorkerCrashedError } from '../errors.js';
import type { Task, TaskResult } from '../protocol/task-types.js';
import { attemptFault, attemptFaults, beginAttemptFaults, injectedError } from '../task/attempt-faults.js';
import type { FaultCounts } from '../task/faults.js';

/**
 * What a `crash` or `hang` fault does where no error can carry its count back: the local worker
 * tells the pool, then exits its thread; a Lambda function exits its runtime. Told the counts so
 * far, the fault's included.
 */
export type FatalFault = (kind: 'crash' | 'hang', counts: FaultCounts) => void;

/**
 * Without a handler (the inline invoker, in the driver's own thread) a crash cannot kill the thread
 * it shares with the driver, so it fails the attempt as a crashed worker would.
 */
let fatal: FatalFault = (kind, counts) => {
  if (kind === 'crash') {
    const err = new WorkerCrashedError('injected fault crash (FANOUT_FAULTS): no thread to end inline', {
      retryable: true,
    });
    err.faults = counts;
    throw err;
  }
};

/** Sets what crash and hang faults do in this thread (see FatalFault). */
export function onFatalFault(handler: FatalFault): void {
  fatal = handler;
}

/**
 * Runs one attempt under the fault plan: decides the task's own fault at its start, counts the
 * faults injected inside it (store sites) and carries them back on its result or its error.
 */
export async function runWithFaults(task: Task, run: () => Promise<TaskResult>): Promise<TaskResult> {
  // A map or reduce invocation is named once per job by its attempt (retries, speculative copies and
  // resumed runs number theirs anew) and, after a throttle, by how many times it was throttled; a
  // stream batch is numbered by its consumer, which starts again from 1 when it restarts from a
  // checkpoint, so its draws go on.
  const again = task.throttled ? `~${task.throttled}` : '';
  beginAttemptFaults(`${task.taskId}#${task.attempt}${again}`, { fresh: task.kind !== 'stream-batch' });
  try {
    if (task.kind !== 'stream-batch') {
      const kind = attemptFault(task.kind);
      if (kind === 'throw') throw injectedError(task.kind, kind, `before ${task.taskId} ran`);
      if (kind === 'crash' || kind === 'hang') {
        fatal(kind, attemptFaults() ?? {});
        // Never settles: the backend's task timeout abandons the attempt and stops its thread.
        if (kind === 'hang') await new Promise<never>(() => {});
      }
    }
    const result = await run();
    const faults = attemptFaults();
    return faults ? { ...result, metrics: { ...result.metrics, faults } } : result;
  } catch (err) {
    const e = toFanoutError(err, UserCodeError);
    const faults = attemptFaults();
    if (faults) e.faults = faults;
    throw e;
  }
}
