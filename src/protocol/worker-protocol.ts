import type { SerializedError } from '../errors.js';
import type { Task, TaskResult } from './task-types.js';

/**
 * What the local pool and its worker threads say to each other. Kept apart from the worker's code so
 * the pool's thread does not load the task code (map, reduce, stream) it never runs.
 */

/** Marks a worker started by the local pool, so importing the worker module anywhere else does nothing. */
export const WORKER_MARK = 'fanout.local-worker';

/**
 * What the pool hands each worker: the job bundle to import once. A worker started ahead of its pool
 * (startWorkersAhead) has none, and is sent it as its first message, a WorkerBundle.
 */
export interface WorkerData {
  mark: typeof WORKER_MARK;
  jobBundle?: string;
}

export type WorkerBundle = { jobBundle: string };

export type WorkerRequest = { id: number; task: Task };
export type WorkerReply =
  | { id: number; ok: true; result: TaskResult }
  | { id: number; ok: false; error: SerializedError }
  /**
   * Sent before an injected crash or hang (FANOUT_FAULTS), which leave no result or error to carry
   * the attempt's fault counts: the pool puts them on the error it fails the attempt with.
   */
  | { id: number; ok: 'fault'; faults: Record<string, number> }
  | 'ready';
