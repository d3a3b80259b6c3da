/**
 * ETL to JSON Lines: each batch of JSON records becomes one JSONL object in the consumer's store
 * (S3 with `--work s3://bucket/prefix`), at `streams/etl-jsonl/out/<shardId>/<first>-<last>.jsonl`.
 * The key is made of the batch's sequence numbers, so a retried batch overwrites its own object.
 * Each line is the record's JSON with `_seq` and `_arrivedAt` added. Every option is shown, most at
 * its default.
 */
import { defineStream } from 'fanout';

export default defineStream({
  name: 'etl-jsonl',
  stream: 'events', // stream name or ARN; --stream overrides
  startingPosition: 'TRIM_HORIZON', // or 'LATEST', or { timestamp: Date }
  batchSize: 1000, // 1..10,000 records per process call
  batchWindowMs: 1000, // wait up to this long to fill a batch
  parallelization: 1, // 1..10 concurrent batches per shard, order kept per partition key
  maxRetries: 3, // -1 = until the record expires
  maxRecordAgeMs: -1, // -1 = never too old to retry
  bisectOnError: true, // halve a failing batch until the poison record is alone
  // dlq: 'events-dlq', // SQS queue name or URL; without one, dead letters stay in the store
  async process(records, ctx) {
    // may throw, or return { failed: [sequenceNumber or { sequenceNumber, error }, ...] }
    const first = records[0];
    const last = records.at(-1);
    if (!first || !last) return;
    const lines = records.map((r) =>
      JSON.stringify({
        ...r.json<Record<string, unknown>>(),
        _seq: r.sequenceNumber,
        _arrivedAt: r.arrivedAt,
      }),
    );
    const key = `streams/etl-jsonl/out/${ctx.shardId}/${first.sequenceNumber}-${last.sequenceNumber}.jsonl`;
    await ctx.store.put(key, `${lines.join('\n')}\n`);
  },
});
