/**
 * Clean an app's JSON Lines logs, map-only: no reduce, so each map task writes the records `map`
 * emits straight to one part file (`part-m-00000.jsonl`, ...). Drops debug events and events with
 * no user, and writes every field one way: the time as an ISO string, the level and user in lower
 * case, the latency as a number, and the hourly file each event came from (`ctx.input.key`).
 *
 * Re-partitioning comes with it: many small hourly files are packed into map tasks of about
 * `--split-size` bytes, and a large file is cut into tasks of that size, so the output has part
 * files of about that size however the input was cut. Output records:
 * `{ "id": "evt-0000001", "at": "2024-06-01T00:00:07.000Z", "level": "info", "user": "ada", ... }`.
 */
import { defineJob, type EmitRecord, jsonl } from 'fanout';

/** An event as the app writes it. */
interface RawEvent {
  id: string;
  ts: string | number;
  level: string;
  user?: string;
  path: string;
  latency_ms: number | string;
}

/** An event as the job writes it. */
interface Event {
  id: string;
  at: string;
  level: string;
  user: string;
  path: string;
  latency_ms: number;
  source: string;
}

export default defineJob({
  name: 'clean-logs',
  input: jsonl<RawEvent>(),
  map(e, emit: EmitRecord<Event>, ctx) {
    const level = e.level.toLowerCase();
    const user = e.user?.trim().toLowerCase();
    if (level === 'debug' || !user) return;
    const latency = Number(e.latency_ms);
    // A field no rule here can read fails the task, naming the file and line, rather than
    // writing a record with a hole in it.
    if (!Number.isFinite(latency))
      throw new Error(`event ${e.id}: latency_ms ${e.latency_ms} is not a number`);
    emit({
      id: e.id,
      at: new Date(e.ts).toISOString(),
      level,
      user,
      path: e.path,
      latency_ms: latency,
      source: ctx.input.key,
    });
  },
});
