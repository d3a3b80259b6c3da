import type { StreamBatchResult, StreamBatchTask } from '../protocol/task-types.js';
import { openStore } from '../store/open-store.js';
import type { Stream } from '../stream/types.js';
import { batchContext } from '../task/batch-context.js';
import { batchFailure, failedRecords } from '../task/batch-failure.js';
import { deserializeRecord } from '../task/stream-record.js';

/** Runs one batch of a stream job where the task landed (worker thread or Lambda). */
export async function runStreamBatchTask(job: Stream, task: StreamBatchTask): Promise<StreamBatchResult> {
  const started = Date.now();
  const records = task.records.map(deserializeRecord);
  const result = await job.process(records, batchContext({ ...task, store: openStore(task.store) }));
  const inputBytes = records.reduce((n, r) => n + r.data.byteLength, 0);
  // Decided here, where the records are, and sent as plain data: a reason given as an Error would
  // not survive JSON on its way back from Lambda.
  const failure = batchFailure(records, { returned: result });
  return {
    kind: 'stream-batch',
    ...(failure && { failed: failedRecords(failure) }),
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
