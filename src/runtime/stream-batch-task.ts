import { openStore } from '../backends/open-store.js';
import { deserializeRecord } from '../stream/consumer/stream-record.js';
import type { Stream } from '../stream/types.js';
import { createLogger } from './logger.js';
import type { StreamBatchResult, StreamBatchTask } from './task-types.js';

/** Runs one batch of a stream job where the task landed (worker thread or Lambda). */
export async function runStreamBatchTask(job: Stream, task: StreamBatchTask): Promise<StreamBatchResult> {
  const started = Date.now();
  const records = task.records.map(deserializeRecord);
  const result = await job.process(records, {
    streamName: task.streamName,
    shardId: task.shardId,
    attempt: task.attempt,
    log: createLogger({ jobId: task.jobId, taskId: task.taskId }),
    store: openStore(task.store),
  });
  const inputBytes = records.reduce((n, r) => n + r.data.byteLength, 0);
  return {
    kind: 'stream-batch',
    ...(result?.failed && result.failed.length > 0 && { failed: result.failed }),
    metrics: {
      inputBytes,
      inputRecords: records.length,
      outputRecords: 0,
      outputBytes: 0,
      spills: 0,
      ms: Date.now() - started,
    },
  };
}
