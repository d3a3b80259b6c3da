import type { Invoker } from '../../backends/invoker.js';
import type { BatchResult, Stream } from '../types.js';
import type { ProcessBatch } from './batch-runner.js';
import { type SerializedRecord, serializeRecord } from './stream-record.js';

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
    for (const [i, chunk] of chunks.entries()) {
      const first = chunk[0]?.sequenceNumber ?? 'empty';
      let result: BatchResult | undefined;
      try {
        const out = await invoker.invoke({
          kind: 'stream-batch',
          jobId: `stream-${job.name}`,
          stage: 0,
          taskId: `${shardId}-${first}`,
          attempt,
          memoryBudget: 0,
          streamName,
          shardId,
          store,
          records: chunk,
        });
        if (out.kind !== 'stream-batch') throw new Error(`expected a stream-batch result, got ${out.kind}`);
        result = out.failed ? { failed: out.failed } : undefined;
      } catch (err) {
        // Earlier chunks are done: report this one as failed so only it and later ones are retried,
        // where the retry (starting with this chunk) surfaces the error itself.
        if (i === 0) throw err;
        return { failed: [first] };
      }
      if (result?.failed && result.failed.length > 0) return result;
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
