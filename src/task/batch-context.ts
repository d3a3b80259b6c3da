import type { ObjectStore } from '../store/object-store.js';
import type { EmitContext, StreamContext } from '../stream/types.js';
import { createLogger } from './logger.js';

/** The job id of a stream job's tasks and log lines. */
export const streamJobId = (job: string): string => `stream-${job}`;

/** The task id of a batch: its shard and first sequence number, unique and stable across retries. */
export const batchTaskId = (shardId: string, firstSequence: string): string => `${shardId}-${firstSequence}`;

/** What `process` is told about one call, besides the records. */
export interface BatchScope {
  jobId: string;
  taskId: string;
  streamName: string;
  shardId: string;
  attempt: number;
  store: ObjectStore;
}

/**
 * The context `process` sees, built by this one function in the consumer's thread, a worker thread
 * and on Lambda alike, so `ctx.log` writes the same lines (prefixed with job and task id, to stderr:
 * CloudWatch Logs on Lambda) wherever the batch runs.
 */
export function batchContext(s: BatchScope): StreamContext {
  return {
    streamName: s.streamName,
    shardId: s.shardId,
    attempt: s.attempt,
    store: s.store,
    log: createLogger({ jobId: s.jobId, taskId: s.taskId }),
  };
}

/** The context a window's `emit` sees: it runs in the consumer, next to the shard's checkpoints. */
export function emitContext(
  job: string,
  streamName: string,
  shardId: string,
  store: ObjectStore,
): EmitContext {
  return { streamName, store, log: createLogger({ jobId: streamJobId(job), taskId: `${shardId}-window` }) };
}
