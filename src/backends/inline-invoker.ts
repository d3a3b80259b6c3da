import { toFanoutError, UserCodeError } from '../errors.js';
import type { Job } from '../job/types.js';
import type { Task, TaskResult } from '../runtime/task-types.js';
import type { Invoker } from './invoker.js';

/**
 * Runs tasks in the calling thread: for a job object defined in the same program, where there is
 * no file to bundle for worker threads. Same task code, no crash isolation.
 */
export class InlineInvoker implements Invoker {
  readonly concurrency = 1;
  readonly #job: Job;

  constructor(job: Job) {
    this.#job = job;
  }

  async invoke(task: Task): Promise<TaskResult> {
    // Loaded on first use: a program that only runs job files never needs the task code here.
    const { runTask } = await import('../runtime/run-task.js');
    try {
      return await runTask(this.#job, task);
    } catch (err) {
      throw toFanoutError(err, UserCodeError);
    }
  }

  async close(): Promise<void> {}
}
