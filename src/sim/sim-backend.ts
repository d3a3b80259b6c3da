import type { BackendProvider } from '../backends/backend.js';
import { registerStoreScheme } from '../store/open-store.js';
import { SimInvoker } from './sim-invoker.js';
import { SimStore } from './sim-store.js';
import { currentWorld } from './sim-world.js';

// The simulated S3: `sim://` locations, usable only while a simulation runs.
registerStoreScheme('sim:', (url) => new SimStore(url));

/** Lambda's own limit on a function's timeout. */
const LAMBDA_MAX_TIMEOUT_MS = 900_000;

/**
 * Simulated Lambda and S3 for `mr plan --simulate` (see simulate-job.ts): tasks run on the
 * SimInvoker under the virtual clock of the current SimWorld, against `sim://` stores. Remote, as
 * the aws backend is: its tasks see only `sim://` locations. Opening it outside a simulation fails
 * with one line saying where it runs.
 */
export const simBackend: BackendProvider = {
  name: 'sim',
  remote: true,
  async open(o) {
    const world = currentWorld();
    // A function at Lambda's longest timeout, attempts abandoned 10% before it, as on aws.
    const taskTimeoutMs = o.taskTimeoutMs ?? LAMBDA_MAX_TIMEOUT_MS * 0.9;
    return {
      invoker: new SimInvoker({ concurrency: o.concurrency, taskTimeoutMs }),
      lambda: { memoryMb: world.memoryMb, arch: world.arch, attemptTimeoutMs: taskTimeoutMs },
      taskTimeoutMs,
    };
  },
};
