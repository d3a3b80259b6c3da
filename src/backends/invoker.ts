import type { Task, TaskResult } from '../protocol/task-types.js';

/**
 * Runs task attempts somewhere: a local worker pool, or Lambda. Rejects with a FanoutError whose
 * `retryable` flag tells the scheduler whether another attempt may help.
 */
export interface Invoker {
  /** How many attempts this invoker can usefully run at once. */
  readonly concurrency: number;
  invoke(task: Task): Promise<TaskResult>;
  close(): Promise<void>;
}
