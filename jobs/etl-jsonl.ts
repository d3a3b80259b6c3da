/**
 * ETL to JSON Lines: each batch of JSON records becomes one JSONL object in the consumer's store
 * (S3 with `--work s3://bucket/prefix`), at `streams/etl-jsonl/out/<shardId>/<first>-<last>.jsonl`.
 * The key is made of the batch's sequence numbers, so a retried batch overwrites its own object.
 * Each line is the record's JSON with `_seq` and `_arrivedAt` added.
 */
import { defineStream } from 'fanout';

export default defineStream({
  name: 'etl-jsonl',
  stream: 'events',
  batchSize: 1000,
  batchWindowMs: 1000,
  async process(records, ctx) {
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
