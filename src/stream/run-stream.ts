import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import {
  type BackendName,
  backendNamed,
  DEFAULT_BACKEND,
  DEFAULT_FUNCTION_NAME,
  DEFAULT_WORK_DIR,
} from '../backends/backends.js';
import type { Invoker } from '../backends/invoker.js';
import type { FunctionFacts } from '../backends/lambda-invoker.js';
import { openBackend } from '../backends/open-backend.js';
import { UsageError } from '../errors.js';
import { isUrl, openStore } from '../store/open-store.js';
import { invokerProcess } from './consumer/invoker-process.js';
import { type StreamHandle, startStream } from './consumer/start-stream.js';
import type { SharedLeases, StreamOptions } from './consumer/stream-options.js';
import { isStream } from './define-stream.js';
import type { Stream } from './types.js';

/** Options of `runStream`: where batches run, and the consumer's own options. */
export interface RunStreamOptions extends Omit<StreamOptions, 'store' | 'process' | 'shared' | 'leases'> {
  /** Where batches run: worker threads here, or the deployed Lambda runtime. @default 'local' */
  backend?: BackendName;
  /** aws: name or ARN of the runtime function made by `mr deploy`. @default 'fanout-runtime' */
  functionName?: string;
  /** The region of the stream, its dead-letter queue and the function, passed to their SDK clients. */
  region?: string;
  /** Batches at once across shards (local: worker threads). @default one per core */
  concurrency?: number;
  /** Folder or s3:// URL for checkpoints, leases and store dead letters; on aws an s3:// URL. @default '.fanout' */
  workDir?: string;
  /** Share the shards with other consumers through leases in the work store. */
  shared?: SharedLeases;
  /** How long an attempt of a batch may run before it is abandoned and retried. */
  taskTimeoutMs?: number;
}

/** A consumer started by runStream: its handle, and what its backend is. */
export interface RunningStream extends StreamHandle {
  job: Stream;
  /** aws: the function batches run on, as its configuration was read (memory, timeout). */
  lambda?: FunctionFacts;
}

/**
 * Starts consuming a stream with a stream job, opening its backend through the registry as runJob
 * does: a job file is bundled and its batches run on worker threads or the deployed Lambda runtime
 * (whose configuration is read first); a stream object made by defineStream runs its batches in this
 * thread. `stop()` stops reading, lets in-flight batches finish, checkpoints and closes the backend.
 * @example
 * const s = await runStream('jobs/etl-jsonl.ts', { stream: 'clicks' });
 * s.on('metrics', (m) => console.log(m.recordsPerSecond));
 * await s.stop();
 * @throws {UsageError} for bad options or a file that exports no stream job.
 */
export async function runStream(
  job: string | URL | Stream,
  o: RunStreamOptions = {},
): Promise<RunningStream> {
  const backend = backendNamed(o.backend ?? DEFAULT_BACKEND);
  const workDir = o.workDir ?? DEFAULT_WORK_DIR;
  if (backend.remote && !/^s3:\/\//.test(workDir)) {
    throw new UsageError(
      `--backend ${backend.name} needs --work s3://bucket/prefix: its functions read the job bundle from there`,
    );
  }
  const concurrency = o.concurrency ?? availableParallelism();
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const store = openStore(isUrl(workDir) ? workDir : resolve(workDir));
  if (o.region !== undefined) (await import('../store/s3-client.js')).useS3Region(o.region);
  let definition: Stream;
  let invoker: Invoker | undefined;
  let lambda: FunctionFacts | undefined;
  if (isStream(job)) {
    if (backend.remote)
      throw new UsageError(`the ${backend.name} backend runs job files, not stream objects`);
    definition = job;
  } else {
    const opened = await openBackend(
      job,
      {
        backend: backend.name,
        concurrency,
        work: store,
        ...(!isUrl(workDir) && { bundleDir: resolve(workDir) }),
        workerMemoryMb: 4096,
        functionName: o.functionName ?? DEFAULT_FUNCTION_NAME,
        region: o.region,
        taskTimeoutMs: o.taskTimeoutMs,
      },
      'stream',
    );
    definition = opened.job;
    invoker = opened.invoker;
    lambda = opened.lambda;
  }
  const streamName = o.stream ?? definition.stream;
  // Clients passed in (tests, emulators) are used as they are; else clients of the region, if given.
  const clients = o.region === undefined || (o.kinesis && o.sqs) ? {} : await regionalClients(o.region);
  const {
    backend: _b,
    functionName: _f,
    region: _r,
    concurrency: _c,
    workDir: _w,
    taskTimeoutMs: _t,
    ...consumer
  } = o;
  let handle: StreamHandle;
  try {
    handle = startStream(definition, {
      ...clients,
      ...consumer,
      stream: streamName,
      store,
      ...(invoker && { process: invokerProcess(invoker, store.url, streamName) }),
    });
  } catch (err) {
    await invoker?.close();
    throw err;
  }
  const closed = handle.done.finally(() => invoker?.close()).catch(() => {});
  const running: RunningStream = {
    job: definition,
    ...(lambda && { lambda }),
    done: handle.done,
    async stop() {
      await handle.stop();
      await closed;
    },
    on(event, listener) {
      handle.on(event, listener);
      return running;
    },
  };
  return running;
}

/** Kinesis and SQS clients of a region, instead of the SDK's chain. */
async function regionalClients(region: string): Promise<Pick<StreamOptions, 'kinesis' | 'sqs'>> {
  const { defaultKinesisClient, defaultSqsClient } = await import('../backends/stream-clients.js');
  return { kinesis: defaultKinesisClient({ region }), sqs: defaultSqsClient({ region }) };
}
