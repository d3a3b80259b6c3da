import type { Invoker } from '../../backends/invoker.js';
import type { SerializedRecord } from '../../protocol/task-types.js';
import { batchTaskId, streamJobId } from '../../task/batch-context.js';
import { batchFailure, failedRecords } from '../../task/batch-failure.js';
import { serializeRecord } from '../../task/stream-record.js';
import type { FailedRecord, Stream } from '../types.js';
import type { ProcessBatch } from './batch-runner.js';

/**
 * Records per invocation are capped by bytes, below Lambda's 256 KiB payload limit as the Lambda
 * invoker enforces it, leaving room for the task's other fields and the bundle pointer.
 */
export const MAX_TASK_RECORD_BYTES = 192 * 1024;

/**
 * Runs a shard's batches as 'stream-batch' tasks on an invoker (the local worker pool or Lambda), so
 * user code runs where batch jobs' code runs. Records travel as plain data with base64 payloads; a
 * batch too large for one invocation is sent as consecutive chunks, in order.
 */
export function invokerProcess(
  invoker: Invoker,
  store: string,
  streamName: string,
): (job: Stream, shardId: string) => ProcessBatch {
  return (job, shardId) => async (records, attempt) => {
    const chunks = chunkBySize(records.map(serializeRecord));
    let offset = 0;
    for (const chunk of chunks) {
      const first = chunk[0]?.sequenceNumber ?? 'empty';
      let failed: Required<FailedRecord>[] | undefined;
      try {
        const out = await invoker.invoke({
          kind: 'stream-batch',
          jobId: streamJobId(job.name),
          stage: 0,
          taskId: batchTaskId(shardId, first),
          attempt,
          memoryBudget: 0,
          streamName,
          shardId,
          store,
          records: chunk,
        });
        if (out.kind !== 'stream-batch') throw new Error(`expected a stream-batch result, got ${out.kind}`);
        failed = out.failed;
      } catch (err) {
        if (offset === 0) throw err;
        // Earlier chunks are done: this one and every later one failed with this error, as the
        // whole batch would have had it been one invocation.
        const rest = records.slice(offset);
        return { failed: failedRecords(batchFailure(rest, { threw: err })) };
      }
      if (failed && failed.length > 0) return { failed };
      offset += chunk.length;
    }
    return undefined;
  };
}

function chunkBySize(records: SerializedRecord[]): SerializedRecord[][] {
  const chunks: SerializedRecord[][] = [];
  let current: SerializedRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = r.data.length + r.partitionKey.length + r.sequenceNumber.length + r.shardId.length + 64;
    if (current.length > 0 && bytes + size > MAX_TASK_RECORD_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
