import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import { isJob } from '../job/define-job.js';
import { runTask } from './run-task.js';
import type { Task } from './task-types.js';

/** Marks a worker started by the local pool, so importing a job bundle elsewhere has no effect. */
export const WORKER_MARK = 'fanout.local-worker';

export type WorkerRequest = { id: number; task: Task };
export type WorkerReply =
  | { id: number; ok: true; result: import('./task-types.js').TaskResult }
  | { id: number; ok: false; error: import('../errors.js').SerializedError };

/**
 * Serves tasks in a pool worker. Called from every job bundle; does nothing outside a pool worker,
 * so the same bundle can be imported by the driver or by the Lambda runtime.
 */
export function serveTasksIfWorker(job: unknown): void {
  if (isMainThread || !parentPort || (workerData as { mark?: unknown } | null)?.mark !== WORKER_MARK) return;
  const port = parentPort;
  if (!isJob(job)) {
    throw new Error('job bundle does not export a job made by defineJob');
  }
  port.on('message', async ({ id, task }: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      reply = { id, ok: true, result: await runTask(job, task) };
    } catch (err) {
      reply = { id, ok: false, error: serializeError(err) };
    }
    port.postMessage(reply);
  });
  port.postMessage('ready');
}
