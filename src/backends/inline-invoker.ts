import { formatDuration } from '../duration.js';
import { toFanoutError, UserCodeError, WorkerCrashedError } from '../errors.js';
import type { Job } from '../job/types.js';
import type { Task, TaskResult } from '../protocol/task-types.js';
import type { Invoker } from './invoker.js';

/**
 * Runs tasks in the calling thread: for a job object defined in the same program, where there is
 * no file to bundle for worker threads. Same task code, no crash isolation: an attempt past its
 * timeout is abandoned and fails (a promise that never settles), but a synchronous endless loop
 * cannot be stopped in the thread it holds.
 */
export class InlineInvoker implements Invoker {
  readonly concurrency = 1;
  readonly #job: Job;
  readonly #timeoutMs: number | undefined;

  constructor(job: Job, options: { taskTimeoutMs?: number } = {}) {
    this.#job = job;
    this.#timeoutMs = options.taskTimeoutMs;
  }

  async invoke(task: Task, onStart?: (lane: string) => void): Promise<TaskResult> {
    onStart?.('inline');
    // Loaded on first use: a program that only runs job files never needs the task code here.
    const { runTask } = await import('../runtime/run-task.js');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ms = this.#timeoutMs;
    const timeout =
      ms === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new WorkerCrashedError(
                    `${task.taskId} attempt ${task.attempt} timed out after ${formatDuration(ms)} (--task-timeout)`,
                    { retryable: true, context: { taskId: task.taskId, attempt: task.attempt } },
                  ),
                ),
              ms,
            );
          });
    try {
      const run = runTask(this.#job, task);
      // An abandoned attempt may still fail later; its error then has no one to tell.
      run.catch(() => {});
      return await (timeout ? Promise.race([run, timeout]) : run);
    } catch (err) {
      throw toFanoutError(err, UserCodeError);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {}
}
