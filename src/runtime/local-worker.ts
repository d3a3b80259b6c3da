import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type SerializedError, serializeError } from '../errors.js';
import { isJob } from '../job/define-job.js';
import { isStream } from '../stream/define-stream.js';
import { runTask } from './run-task.js';
import type { Task, TaskResult } from './task-types.js';

/** Marks a worker started by the local pool, so importing this module anywhere else does nothing. */
export const WORKER_MARK = 'fanout.local-worker';

/** What the pool hands each worker: the job bundle to import once. */
export interface WorkerData {
  mark: typeof WORKER_MARK;
  jobBundle: string;
}

export type WorkerRequest = { id: number; task: Task };
export type WorkerReply =
  | { id: number; ok: true; result: TaskResult }
  | { id: number; ok: false; error: SerializedError }
  | 'ready';

/** Imports the job bundle, then runs every task posted to this worker with `runTask`. */
async function serve(data: WorkerData): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const mod = (await import(pathToFileURL(data.jobBundle).href)) as { default?: unknown };
  const job = mod.default;
  if (!isJob(job) && !isStream(job)) {
    throw new Error(`${data.jobBundle} does not export a job made by defineJob or defineStream`);
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
  port.postMessage('ready' satisfies WorkerReply);
}

const data = workerData as Partial<WorkerData> | null;
if (!isMainThread && data?.mark === WORKER_MARK && typeof data.jobBundle === 'string') {
  await serve(data as WorkerData);
}
