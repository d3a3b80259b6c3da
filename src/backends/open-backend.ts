import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isJob } from '../job/define-job.js';
import type { Job } from '../job/types.js';
import { bundleJob, importBundle } from './bundle-job.js';
import { InlineInvoker } from './inline-invoker.js';
import type { Invoker } from './invoker.js';
import type { FunctionFacts } from './lambda-invoker.js';
import { LocalWorkerPool } from './local-pool.js';
import type { ObjectStore } from './object-store.js';
import { shipBundle } from './ship-bundle.js';

/** Where tasks run: worker threads on this machine, or invocations of the deployed Lambda runtime. */
export type Backend = 'local' | 'aws';

export interface BackendOptions {
  backend: Backend;
  concurrency: number;
  /** The work store; the aws backend ships the job bundle there. */
  work: ObjectStore;
  /** A local folder for the bundle file; defaults to one under the system temp folder. */
  bundleDir?: string;
  workerMemoryMb: number;
  /** aws: name or ARN of the runtime function. */
  functionName: string;
  /**
   * How long one attempt may run before it is abandoned (a worker thread is terminated) and retried.
   * @default 15 minutes locally (Lambda's own limit); on aws a little under the function's timeout
   */
  taskTimeoutMs?: number;
}

/** Lambda's own limit on an invocation, and so the local backend's default attempt timeout. */
export const DEFAULT_TASK_TIMEOUT_MS = 15 * 60_000;

/** The job definition the driver plans with, the invoker that runs its tasks, and what it runs on. */
export interface OpenedBackend {
  job: Job;
  invoker: Invoker;
  /** aws: the deployed function's limits and size, as far as they could be read. */
  lambda?: FunctionFacts;
  /** How long an attempt may run before the invoker abandons it, when it enforces a limit. */
  taskTimeoutMs?: number;
}

/**
 * Loads a job and opens the backend that runs it. A job file is bundled once with esbuild; the local
 * backend's worker threads import the bundle, the aws backend ships it to the work store and sends
 * Lambda a pointer. A job object (no file) runs inline in this thread.
 * @throws {UsageError} when the job file is missing or bad, or a job object is sent to Lambda.
 */
export async function openBackend(job: string | URL | Job, o: BackendOptions): Promise<OpenedBackend> {
  if (isJob(job)) {
    if (o.backend !== 'local') {
      throw new UsageError('the aws backend runs job files, not job objects: pass the path of the job file');
    }
    const taskTimeoutMs = o.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    return { job, invoker: new InlineInvoker(job, { taskTimeoutMs }), taskTimeoutMs };
  }
  const file = resolve(job instanceof URL ? job.pathname : job);
  const bundle = await bundleJob(file, o.bundleDir ?? join(tmpdir(), 'fanout'));
  const definition = await importBundle(bundle, file);
  if (!isJob(definition)) {
    throw new UsageError(`${file} does not export a job: its default export must be made by defineJob`);
  }
  if (o.backend === 'local') {
    const taskTimeoutMs = o.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    return {
      job: definition,
      invoker: new LocalWorkerPool({
        bundlePath: bundle.path,
        size: o.concurrency,
        workerMemoryMb: o.workerMemoryMb,
        taskTimeoutMs,
      }),
      taskTimeoutMs,
    };
  }
  const ref = await shipBundle(bundle, o.work);
  // Loaded here, not at the top: local runs never load the AWS SDK.
  const { describeFunction, LambdaInvoker, DEFAULT_LAMBDA_TASK_TIMEOUT_MS } = await import(
    './lambda-invoker.js'
  );
  const facts = await describeFunction(o.functionName);
  const taskTimeoutMs = o.taskTimeoutMs ?? facts.attemptTimeoutMs ?? DEFAULT_LAMBDA_TASK_TIMEOUT_MS;
  return {
    job: definition,
    lambda: facts,
    taskTimeoutMs,
    invoker: new LambdaInvoker({
      functionName: o.functionName,
      bundle: ref,
      concurrency: o.concurrency,
      taskTimeoutMs,
    }),
  };
}
