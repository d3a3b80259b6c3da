import type { BackendProvider } from './backend.js';
import { LocalWorkerPool } from './local-pool.js';

/** Lambda's own limit on an invocation, and so the local backend's default attempt timeout. */
export const DEFAULT_TASK_TIMEOUT_MS = 15 * 60_000;

/** Worker threads on this machine, each importing the job bundle once. */
export const localBackend: BackendProvider = {
  name: 'local',
  remote: false,
  async open(o) {
    const taskTimeoutMs = o.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    const invoker = new LocalWorkerPool({
      bundlePath: o.bundle.path,
      size: o.concurrency,
      workerMemoryMb: o.workerMemoryMb,
      taskTimeoutMs,
    });
    return { invoker, taskTimeoutMs };
  },
};
