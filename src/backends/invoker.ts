import type { Task, TaskResult } from '../protocol/task-types.js';

/**
 * Runs task attempts somewhere: a local worker pool, or Lambda. Rejects with a FanoutError whose
 * `retryable` flag tells the scheduler whether another attempt may help.
 */
export interface Invoker {
  /** How many attempts this invoker can usefully run at once. */
  readonly concurrency: number;
  /**
   * Attempts this invoker takes beyond `concurrency`, holding them until a runner is free, so that
   * a runner that finishes one starts the next at once instead of waiting for the scheduler to hear
   * of the result and answer (for the local pool, a round trip through the driver's event loop per
   * task). A held attempt has not started: the invoker calls `onStart` when it does. @default 0
   */
  readonly prefetch?: number;
  /**
   * Runs one attempt; `onStart` is called as it starts running (at once, unless held: see prefetch)
   * with the lane it runs on: the worker thread or function slot, for the job report's timeline.
   */
  invoke(task: Task, onStart?: (lane: string) => void): Promise<TaskResult>;
  close(): Promise<void>;
}
