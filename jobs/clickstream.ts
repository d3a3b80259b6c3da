/**
 * Clickstream: clicks per user in one-minute tumbling windows, per shard. Each record is JSON
 * `{ key: user, ... }` (as `mr stream-gen` writes). When a window closes, its counts are written to
 * the consumer's store at `streams/clickstream/windows/<start ISO>-<shardId>.json` as
 * `{ start, end, shardId, counts: { user: clicks } }`; a replayed window overwrites its own object.
 */
import { defineStream } from 'fanout';

type Counts = Record<string, number>;

export default defineStream<Counts>({
  name: 'clickstream',
  stream: 'clicks',
  batchSize: 500,
  window: {
    ms: 60_000,
    reduce(state, records) {
      const counts = state ?? {};
      for (const r of records) {
        const user = String(r.json<{ key?: unknown }>().key ?? r.partitionKey);
        counts[user] = (counts[user] ?? 0) + 1;
      }
      return counts;
    },
    async emit(counts, w, ctx) {
      const key = `streams/clickstream/windows/${new Date(w.start).toISOString()}-${w.shardId}.json`;
      await ctx.store.put(key, JSON.stringify({ start: w.start, end: w.end, shardId: w.shardId, counts }));
    },
  },
});
