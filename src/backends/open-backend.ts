import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isJob } from '../job/define-job.js';
import type { Job } from '../job/types.js';
import type { ObjectStore } from '../store/object-store.js';
import { isStream } from '../stream/define-stream.js';
import type { Stream } from '../stream/types.js';
import { faultPlan } from '../task/faults.js';
import type { BackendOpenOptions, OpenedInvoker } from './backend.js';
import { backendNamed } from './backends.js';
import { bundleJob, importBundle, type JobBundle } from './bundle-job.js';
import { withInvokeFaults } from './faulty-invoker.js';
import { InlineInvoker } from './inline-invoker.js';
import { DEFAULT_TASK_TIMEOUT_MS } from './local-backend.js';

export interface OpenBackendOptions extends Omit<BackendOpenOptions, 'bundle'> {
  /** A backend name from BACKENDS: `local`, `aws`. */
  backend: string;
  /** The work store; a remote backend ships the job bundle there. */
  work: ObjectStore;
  /** A local folder for the bundle file; defaults to one under the system temp folder. */
  bundleDir?: string;
}

/** The definition a run plans with, and the backend that runs its tasks. */
export interface OpenedBackend<T> extends OpenedInvoker {
  job: T;
}

/** What a job file must export, by the kind of run. */
const KINDS = {
  job: { is: isJob, made: 'defineJob', what: 'a job' },
  stream: { is: isStream, made: 'defineStream', what: 'a stream job' },
} as const;

/**
 * Loads a job (a batch job for `runJob`, a stream job for `runStream`) and opens the backend named
 * in the options through the registry. A job file is bundled once with esbuild; the backend then
 * runs the bundle (worker threads import it, Lambda gets it shipped). A batch job object (no file)
 * runs inline in this thread, on the local backend only. Under FANOUT_FAULTS naming `invoke` the
 * invoker refuses some invocations on purpose (see FaultyInvoker).
 * @throws {UsageError} when the backend is unknown, the job file is missing or exports the wrong
 *   kind of job, a job object is sent to a remote backend, or FANOUT_FAULTS is malformed.
 */
export async function openBackend(
  job: string | URL | Job | BundledJob,
  o: OpenBackendOptions,
  kind: 'job',
): Promise<OpenedBackend<Job>>;
export async function openBackend(
  job: string | URL | Stream,
  o: OpenBackendOptions,
  kind: 'stream',
): Promise<OpenedBackend<Stream>>;
export async function openBackend(
  job: string | URL | Job | Stream | BundledJob,
  o: OpenBackendOptions,
  kind: 'job' | 'stream',
): Promise<OpenedBackend<Job | Stream>> {
  const backend = backendNamed(o.backend);
  // Parsed here, before anything runs, so a bad spec is one line from the driver, not a failed task.
  const faults = faultPlan();
  if (typeof job === 'object' && !(job instanceof URL) && !isBundledJob(job)) {
    if (backend.remote) {
      throw new UsageError(
        `the ${backend.name} backend runs job files, not job objects: pass the path of the job file`,
      );
    }
    if (!isJob(job)) throw new UsageError('a stream object runs in the calling thread: it opens no backend');
    const taskTimeoutMs = o.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    return {
      job,
      invoker: withInvokeFaults(new InlineInvoker(job, { taskTimeoutMs }), faults),
      taskTimeoutMs,
    };
  }
  const { job: definition, bundle } = isBundledJob(job)
    ? { job: checkedKind(await importBundle(job.bundle, job.file), job.file, kind), bundle: job.bundle }
    : await loadJobFile(job, kind, o.bundleDir);
  const opened = await backend.open({ ...o, bundle });
  return { job: definition, ...opened, invoker: withInvokeFaults(opened.invoker, faults) };
}

/**
 * Loads a job file: bundled once with esbuild (so TypeScript and `import 'fanout'` work anywhere),
 * then imported; worker threads and Lambda import the same bundle.
 * @throws {UsageError} when the file is missing, does not compile, or exports the wrong kind of job.
 */
export async function loadJobFile(
  file: string | URL,
  kind: 'job',
  bundleDir?: string,
): Promise<LoadedJob<Job>>;
export async function loadJobFile(
  file: string | URL,
  kind: 'stream',
  bundleDir?: string,
): Promise<LoadedJob<Stream>>;
export async function loadJobFile(
  file: string | URL,
  kind: 'job' | 'stream',
  bundleDir?: string,
): Promise<LoadedJob<Job | Stream>>;
export async function loadJobFile(
  file: string | URL,
  kind: 'job' | 'stream',
  bundleDir = join(tmpdir(), 'fanout'),
): Promise<LoadedJob<Job | Stream>> {
  const path = resolve(file instanceof URL ? file.pathname : file);
  const bundle = await bundleJob(path, bundleDir);
  return { job: checkedKind(await importBundle(bundle, path), path, kind), bundle };
}

/** The definition a bundle exported, if it is of the kind the run needs. */
function checkedKind(definition: unknown, path: string, kind: 'job' | 'stream'): Job | Stream {
  const expected = KINDS[kind];
  if (!expected.is(definition)) {
    throw new UsageError(
      `${path} does not export ${expected.what}: its default export must be made by ${expected.made}`,
    );
  }
  return definition as Job | Stream;
}

/**
 * A job file already bundled: the bundle a submitted driver fetched from the work store, run without
 * esbuild (which a Lambda function does not have). `file` is the job file it was made from, as named
 * where it was submitted.
 */
export interface BundledJob {
  file: string;
  bundle: JobBundle;
}

export function isBundledJob(job: unknown): job is BundledJob {
  const j = job as Partial<BundledJob> | null;
  return typeof j === 'object' && j !== null && typeof j.file === 'string' && typeof j.bundle === 'object';
}

/** A loaded job file: its definition, and the bundle its tasks import. */
export interface LoadedJob<T> {
  job: T;
  bundle: JobBundle;
}
