/**
 * Latency by path from an app's JSON Lines logs (the clean-logs sample), written as Parquet for
 * DuckDB, pandas or Athena: a row per path with its request count, mean and worst latency. The
 * columns are declared, so every part file has the same schema whatever its records hold, and
 * `requests` and `max_ms` are integers (BIGINT) rather than doubles.
 *
 *   npx mr run jobs/latency-by-path.ts --input jobs/data/clean-logs --output out/latency
 *   duckdb -c "FROM 'out/latency/*.parquet' ORDER BY mean_ms DESC LIMIT 5"
 *
 * A reduce's record `{ key, value }` becomes the columns `key` and the value's fields. Output rows:
 * `{ key: '/api/v1/items/17', requests: 41, mean_ms: 1268.4, max_ms: 2491 }`.
 */
import { defineJob, type Emit, jsonl } from 'fanout';

/** The fields this job reads of an event as the app writes it. */
interface RawEvent {
  id: string;
  path: string;
  latency_ms: number | string;
}

/** A path's requests so far, as map emits them and combine adds them up. */
interface Tally {
  requests: number;
  total_ms: number;
  max_ms: number;
}

/** A row of the output. */
interface PathLatency {
  requests: number;
  mean_ms: number;
  max_ms: number;
}

function add(tallies: Iterable<Tally>): Tally {
  const t: Tally = { requests: 0, total_ms: 0, max_ms: 0 };
  for (const x of tallies) {
    t.requests += x.requests;
    t.total_ms += x.total_ms;
    t.max_ms = Math.max(t.max_ms, x.max_ms);
  }
  return t;
}

export default defineJob({
  name: 'latency-by-path',
  input: jsonl<RawEvent>(),
  output: {
    format: 'parquet',
    columns: { key: 'string', requests: 'int64', mean_ms: 'double', max_ms: 'int64' },
  },
  map(e, emit: Emit<string, Tally>) {
    // The app writes latency as a number or as a string of digits.
    const ms = Number(e.latency_ms);
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new Error(`event ${e.id}: latency_ms ${e.latency_ms} is not a whole number of ms`);
    emit(e.path, { requests: 1, total_ms: ms, max_ms: ms });
  },
  combine: (_path, tallies) => add(tallies),
  reduce(path, tallies, emit: Emit<string, PathLatency>) {
    const t = add(tallies);
    emit(path, { requests: t.requests, mean_ms: t.total_ms / t.requests, max_ms: t.max_ms });
  },
});
