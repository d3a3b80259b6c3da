import type { FaultCounts } from '../../task/faults.js';
import type { ShardStats } from './shard-pipeline.js';
import type { StreamMetrics } from './stream-events.js';

/** What the tally reads of a running shard. */
export interface LiveShard {
  stats: ShardStats;
  reader: { millisBehind: number | undefined; throttles: number };
  pipeline: { lanes: number };
}

/** Sums the counters of running and finished shards into metrics events. */
export class MetricsTally {
  #retired = { retries: 0, deadLetters: 0, throttles: 0, records: 0 };
  #last = { at: Date.now(), records: 0 };

  /** Keeps a finished shard's counts, so totals never go down when a shard ends or is handed over. */
  retire(s: LiveShard): void {
    this.#retired.retries += s.stats.retries;
    this.#retired.deadLetters += s.stats.deadLetters;
    this.#retired.throttles += s.reader.throttles;
    this.#retired.records += s.stats.records;
  }

  /** Figures now; records/s is over the time since the previous snapshot. */
  snapshot(running: ReadonlyMap<string, LiveShard>, faults: FaultCounts = {}): StreamMetrics {
    const live = [...running.values()];
    const sum = (f: (s: LiveShard) => number) => live.reduce((n, s) => n + f(s), 0);
    const t = this.#retired;
    const records = t.records + sum((s) => s.stats.records);
    const now = Date.now();
    const rate = ((records - this.#last.records) * 1000) / Math.max(1, now - this.#last.at);
    this.#last = { at: now, records };
    return {
      at: new Date(now),
      recordsPerSecond: Math.round(rate),
      records,
      inFlight: sum((s) => s.stats.inFlight),
      retries: t.retries + sum((s) => s.stats.retries),
      deadLetters: t.deadLetters + sum((s) => s.stats.deadLetters),
      throttles: t.throttles + sum((s) => s.reader.throttles),
      ...(Object.keys(faults).length > 0 && { faults: { ...faults } }),
      shards: [...running.entries()].map(([shardId, s]) => ({
        shardId,
        millisBehind: s.reader.millisBehind,
        inFlight: s.stats.inFlight,
        records: s.stats.records,
        lanes: s.pipeline.lanes,
      })),
    };
  }
}
