import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import { isJob } from '../job/define-job.js';
import {
  WORKER_MARK,
  type WorkerBundle,
  type WorkerData,
  type WorkerReply,
  type WorkerRequest,
} from '../protocol/worker-protocol.js';
import { useBlockingLocalIo } from '../store/open-store.js';
import { isStream } from '../stream/define-stream.js';
import { runTask } from './run-task.js';
import { onFatalFault } from './task-faults.js';

/** Imports the job bundle, then runs every task posted to this worker with `runTask`. */
async function serve(data: WorkerData): Promise<void> {
  const port = parentPort;
  if (!port) return;
  // This thread only runs tasks, one at a time: nothing waits on its event loop while a file call
  // blocks it, and a 4 KiB map task makes a dozen of them.
  useBlockingLocalIo();
  // A worker started ahead of its pool has loaded the task code by now, and waits for its bundle.
  const bundle = data.jobBundle ?? ((await once(port, 'message'))[0] as WorkerBundle).jobBundle;
  const mod = (await import(pathToFileURL(bundle).href)) as { default?: unknown };
  const job = mod.default;
  if (!isJob(job) && !isStream(job)) {
    throw new Error(`${bundle} does not export a job made by defineJob or defineStream`);
  }
  let running = 0;
  // The pool hears of the fault first, then sees the thread exit (or stops it at the task timeout).
  onFatalFault((kind, faults) => {
    port.postMessage({ id: running, ok: 'fault', faults } satisfies WorkerReply);
    if (kind === 'crash') process.exit(1);
  });
  // The pool may send an attempt while another runs (see local-pool.ts): they run one at a time, in
  // the order sent, the next starting as soon as the one before has posted its reply.
  const queue: WorkerRequest[] = [];
  let serving = false;
  const serveQueue = async () => {
    serving = true;
    for (let req = queue.shift(); req; req = queue.shift()) {
      running = req.id;
      let reply: WorkerReply;
      try {
        reply = { id: req.id, ok: true, result: await runTask(job, req.task) };
      } catch (err) {
        reply = { id: req.id, ok: false, error: serializeError(err) };
      }
      port.postMessage(reply);
    }
    serving = false;
  };
  port.on('message', (req: WorkerRequest) => {
    queue.push(req);
    if (!serving) void serveQueue();
  });
  port.postMessage('ready' satisfies WorkerReply);
}

const data = workerData as Partial<WorkerData> | null;
if (!isMainThread && data?.mark === WORKER_MARK) {
  await serve(data as WorkerData);
}
