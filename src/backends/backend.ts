import type { ObjectStore } from '../store/object-store.js';
import type { JobBundle } from './bundle-job.js';
import type { Invoker } from './invoker.js';
import type { FunctionFacts } from './lambda-invoker.js';

/** What a run tells a backend when it opens it. */
export interface BackendOpenOptions {
  /** The job file's bundle, which every task imports. */
  bundle: JobBundle;
  /** Attempts in flight at once (local: worker threads). */
  concurrency: number;
  /** The work store: a remote backend ships the bundle there. */
  work: ObjectStore;
  /** Heap limit of each local worker thread, in MiB. */
  workerMemoryMb: number;
  /** Name or ARN of the function tasks run on (remote backends). */
  functionName: string;
  /** Region of the function, passed to its SDK client; undefined: the SDK's usual chain. */
  region: string | undefined;
  /** How long an attempt may run; undefined: the backend's own default. */
  taskTimeoutMs: number | undefined;
}

/** What an opened backend gives a run. */
export interface OpenedInvoker {
  invoker: Invoker;
  /** The function tasks run on, as far as it could be read: its size (for the cost) and timeout. */
  lambda?: FunctionFacts;
  /** How long an attempt may run before the invoker abandons it. */
  taskTimeoutMs: number;
}

/**
 * A place where tasks run. Adding one (a simulated Lambda for `mr plan`, another cloud's functions)
 * is one module implementing this and one entry in BACKENDS (backends.ts); the driver and the stream
 * consumer never branch on a backend's name.
 */
export interface BackendProvider {
  readonly name: string;
  /** Tasks run elsewhere and see only remote (`s3://`) locations, never this machine's files. */
  readonly remote: boolean;
  open(o: BackendOpenOptions): Promise<OpenedInvoker>;
}

/** The names `--backend` accepts. */
export type BackendName = 'local' | 'aws' | 'sim';

/**
 * Where tasks run unless told otherwise. Kept in this module, which imports no backend, so the CLI
 * can read it before it loads any.
 */
export const DEFAULT_BACKEND: BackendName = 'local';
