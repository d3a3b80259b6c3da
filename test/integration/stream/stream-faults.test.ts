/**
 * The stream consumer under FANOUT_FAULTS: failed batches, checkpoint writes and lease writes. The
 * oracle is the list of records put; every record must be processed at least once, in order per
 * key, and a checkpoint must never name a record not yet processed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import type { Checkpoint } from '../../../src/stream/consumer/checkpoints.js';
import { type StreamOptions, startStream } from '../../../src/stream/consumer/start-stream.js';
import type { StreamMetrics } from '../../../src/stream/consumer/stream-events.js';
import { defineStream } from '../../../src/stream/define-stream.js';
import type { StreamRecord } from '../../../src/stream/types.js';
import { setFaults } from '../../helpers/chaos.js';
import {
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('stream-faults');
const emu = useEmulators(d);
const saved = { faults: process.env.FANOUT_FAULTS, seed: process.env.FANOUT_FAULTS_SEED };
afterEach(() => setFaults(saved.faults, saved.seed));

const options = (store: LocalDirStore, extra: Partial<StreamOptions> = {}): StreamOptions => ({
  kinesis: kinesisClient(emu.kinesis.endpoint),
  store,
  pacing: { minIntervalMs: 10, idleMs: 50 },
  shardRefreshMs: 200,
  metricsIntervalMs: 100,
  retryBaseMs: 2,
  ...extra,
});

/** One processed batch: who ran it, on which shard, when, and its records. */
interface Batch {
  consumer: string;
  shardId: string;
  start: number;
  end: number;
  records: GenRecord[];
  sequenceNumbers: string[];
}

/** Processed batches in the order they finished. */
function journal() {
  const batches: Batch[] = [];
  return {
    batches,
    /** A process function for `consumer` that takes `delayMs` and logs its batch once done. */
    process(consumer: string, delayMs: number) {
      return async (records: StreamRecord[]) => {
        const start = Date.now();
        await new Promise((r) => setTimeout(r, delayMs));
        batches.push({
          consumer,
          shardId: records[0]?.shardId ?? '',
          start,
          end: Date.now(),
          records: records.map((r) => r.json<GenRecord>()),
          sequenceNumbers: records.map((r) => r.sequenceNumber),
        });
      };
    },
    /** Distinct `key/seq` processed. */
    distinct(): Set<string> {
      return new Set(batches.flatMap((b) => b.records.map((r) => `${r.key}/${r.seq}`)));
    },
  };
}

/**
 * Per-key order under at-least-once: whenever a record is processed, every earlier record of its
 * key has been processed before (redelivery may repeat records, never jump ahead of a gap).
 */
function expectOrderPerKey(batches: Batch[]): void {
  const highest = new Map<string, number>();
  for (const b of batches) {
    for (const r of b.records) {
      const top = highest.get(r.key) ?? -1;
      expect(r.seq, `record ${r.key}/${r.seq} after ${r.key}/${top}`).toBeLessThanOrEqual(top + 1);
      highest.set(r.key, Math.max(top, r.seq));
    }
  }
}

/** Sums the faults of the latest metrics event. */
function faultTotal(m: StreamMetrics | undefined, key: string): number {
  return m?.faults?.[key] ?? 0;
}

describe('stream consumer under injected faults', { timeout: 90_000 }, () => {
  it('with stream.process and stream.checkpoint faults, skips nothing: every checkpoint names processed records only', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'faulty', 2);
    const put = await putKeyed(k, 'faulty', 8, 250);
    setFaults('stream.process:throw:0.1,stream.checkpoint:error:0.2', 'checkpoints-1');
    const store = new LocalDirStore(`${d.path}/faulty`);
    const j = journal();
    const def = defineStream({
      name: 'faulty',
      stream: 'faulty',
      batchSize: 40,
      parallelization: 2,
      // Retried whole, so a failed batch counts as a retry (bisection would only halve it).
      bisectOnError: false,
      maxRetries: -1,
      process: j.process('a', 2),
    });
    const checkpoints: { shardId: string; sequenceNumber: string | undefined; processed: Set<string> }[] = [];
    let last: StreamMetrics | undefined;
    const handle = startStream(def, options(store))
      .on('metrics', (m) => {
        last = m;
      })
      .on('checkpoint', (c) => {
        // What had been processed on the shard when its checkpoint was stored.
        const processed = new Set(
          j.batches.filter((b) => b.shardId === c.shardId).flatMap((b) => b.sequenceNumbers),
        );
        checkpoints.push({ ...c, processed });
      });
    await waitFor(() => j.distinct().size >= put.length, 60_000);
    await handle.stop();

    expect(j.distinct().size).toBe(put.length);
    expectOrderPerKey(j.batches);
    expect(faultTotal(last, 'stream.process:throw')).toBeGreaterThan(0);
    expect(faultTotal(last, 'stream.checkpoint:error')).toBeGreaterThan(0);
    expect(last?.retries).toBeGreaterThan(0);
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const c of checkpoints) {
      if (c.sequenceNumber === undefined) continue;
      expect(c.processed.has(c.sequenceNumber), `checkpoint ${c.shardId}@${c.sequenceNumber}`).toBe(true);
    }

    // The stored checkpoints name the last record of each shard: a restart finds nothing left to do.
    const stored: { key: string }[] = [];
    for await (const o of store.list('')) if (o.key.includes('/checkpoints/')) stored.push(o);
    expect(stored).toHaveLength(2);
    for (const o of stored) {
      const c = JSON.parse(Buffer.from(await store.get(o.key)).toString()) as Checkpoint;
      const all = j.batches.filter((b) => b.shardId === c.shardId).flatMap((b) => b.sequenceNumbers);
      expect(c.sequenceNumber).toBe(all.sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).at(-1));
    }
  });

  it('two consumers sharing shards under lease, checkpoint and batch faults never process one shard at once', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'shared-faults', 4);
    setFaults('stream.lease:error:0.2,stream.checkpoint:error:0.1,stream.process:throw:0.05', 'leases-1');
    const store = new LocalDirStore(`${d.path}/shared-faults`);
    const j = journal();
    const consumer = (name: string) =>
      startStream(
        defineStream({
          name: 'shared-faults',
          stream: 'shared-faults',
          batchSize: 20,
          maxRetries: -1,
          process: j.process(name, 30),
        }),
        options(store, { shared: { owner: name, leaseMs: 900 } }),
      );
    const errors: string[] = [];
    let lastA: StreamMetrics | undefined;
    const a = consumer('a')
      .on('error', (e) => errors.push(e.message))
      .on('metrics', (m) => {
        lastA = m;
      });
    const put = await putKeyed(k, 'shared-faults', 8, 800);
    const expected = new Set(put.map((r) => `${r.key}/${r.seq}`));
    // a holds every shard and is working through them when b joins and asks for its share.
    await waitFor(() => new Set(j.batches.map((x) => x.shardId)).size === 4, 20_000);
    const b = consumer('b').on('error', (e) => errors.push(e.message));
    await waitFor(() => j.distinct().size >= expected.size, 60_000);
    await Promise.all([a.stop(), b.stop()]);

    expect(j.distinct()).toEqual(expected);
    // Within one shard, batches of different consumers never overlap in time.
    for (const shard of new Set(j.batches.map((x) => x.shardId))) {
      const runs = j.batches.filter((x) => x.shardId === shard).sort((x, y) => x.start - y.start);
      for (let i = 1; i < runs.length; i++) {
        const [prev, next] = [runs[i - 1] as Batch, runs[i] as Batch];
        if (prev.consumer !== next.consumer)
          expect(
            next.start,
            `${shard}: ${next.consumer} started before ${prev.consumer} ended`,
          ).toBeGreaterThanOrEqual(prev.end);
      }
    }
    // The handoff happened: b processed a shard that a had processed before.
    const byA = new Set(j.batches.filter((x) => x.consumer === 'a').map((x) => x.shardId));
    const byB = new Set(j.batches.filter((x) => x.consumer === 'b').map((x) => x.shardId));
    expect([...byB].some((s) => byA.has(s))).toBe(true);
    expect(faultTotal(lastA, 'stream.lease:error')).toBeGreaterThan(0);
    expect(errors.some((e) => e.includes('stream.lease:error'))).toBe(true);
  });
});
