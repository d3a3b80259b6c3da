import { DeleteStreamCommand, GetRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { type FanoutError, StreamFailedError } from '../../../src/errors.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { startStream } from '../../../src/stream/consumer/start-stream.js';
import type { StreamMetrics } from '../../../src/stream/consumer/stream-events.js';
import { defineStream } from '../../../src/stream/define-stream.js';
import {
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  sqsClient,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('stream-failures');
const emu = useEmulators(d);

const pacing = { minIntervalMs: 10, idleMs: 30 };

/** A consumer of `stream` with the job `name`, collecting what it processed and every error. */
function consumer(name: string, stream: string, store: LocalDirStore, shardRefreshMs = 100) {
  const seen: string[] = [];
  const errors: FanoutError[] = [];
  const handle = startStream(
    defineStream({
      name,
      stream,
      batchSize: 10,
      async process(records) {
        for (const r of records) seen.push(r.sequenceNumber);
      },
    }),
    { kinesis: kinesisClient(emu.kinesis.endpoint), store, pacing, shardRefreshMs },
  );
  handle.on('error', (e) => errors.push(e));
  return { handle, seen, errors };
}

describe('stream failure handling', () => {
  it('stops a shard at a record the DLQ refused and never checkpoints past it', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'nodlq', 1);
    await putKeyed(k, 'nodlq', 1, 20);
    const store = new LocalDirStore(`${d.path}/nodlq`);
    const processed: number[] = [];
    const errors: string[] = [];
    const checkpoints: (string | undefined)[] = [];
    const def = defineStream({
      name: 'nodlq',
      stream: 'nodlq',
      batchSize: 5,
      maxRetries: 0,
      dlq: 'no-such-queue',
      async process(records) {
        // Handles records in order up to seq 12, which it reports as failed (and everything after).
        for (const r of records) {
          if (r.json<GenRecord>().seq === 12) return { failed: [r.sequenceNumber] };
          processed.push(r.json<GenRecord>().seq);
        }
        return undefined;
      },
    });
    const handle = startStream(def, {
      kinesis: k,
      sqs: sqsClient(emu.sqs.endpoint),
      store,
      pacing,
      retryBaseMs: 1,
    });
    handle.on('error', (e) => errors.push(`${e.name}: ${e.message}`));
    handle.on('checkpoint', (c) => checkpoints.push(c.sequenceNumber));
    await waitFor(() => errors.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    await handle.stop();
    expect(errors[0]).toMatch(
      /^DeadLetterError: cannot dead-letter shardId-\d+\/\d+ to SQS queue no-such-queue/,
    );
    // Records 10 and 11 (before the failed one in its batch) are done; 12 and later are not.
    expect(processed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const keys: string[] = [];
    for await (const o of store.list('streams/nodlq/')) keys.push(o.key);
    // Under the stream's name and the short id of its ARN and creation time.
    expect(keys).toEqual([
      expect.stringMatching(/^streams\/nodlq\/nodlq-[0-9a-f]{8}\/checkpoints\/shardId-000000000000\.json$/),
    ]);
    const saved = JSON.parse(new TextDecoder().decode(await store.get(keys[0] ?? '')));
    expect(saved.sequenceNumber).toBe(checkpoints.at(-1));
    // A restart resumes at the refused record, not after it.
    const again: number[] = [];
    const h2 = startStream(
      defineStream({
        name: 'nodlq',
        stream: 'nodlq',
        async process(rs) {
          for (const r of rs) again.push(r.json<GenRecord>().seq);
        },
      }),
      { kinesis: k, store, pacing },
    );
    await waitFor(() => again.length >= 8);
    await h2.stop();
    expect(again[0]).toBe(12);
  });

  it('keeps polling when a listener throws, and reports it as an error', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'listener', 2);
    const put = await putKeyed(k, 'listener', 4, 25);
    let count = 0;
    const errors: string[] = [];
    const metrics: StreamMetrics[] = [];
    const handle = startStream(
      defineStream({
        name: 'listener',
        stream: 'listener',
        batchSize: 10,
        async process(records) {
          count += records.length;
        },
      }),
      { kinesis: k, store: new LocalDirStore(`${d.path}/listener`), pacing, metricsIntervalMs: 50 },
    );
    handle.on('checkpoint', () => {
      throw new Error('listener bug');
    });
    handle.on('metrics', (m) => metrics.push(m));
    handle.on('error', (e) => errors.push(e.message));
    await waitFor(() => count >= put.length);
    await handle.stop();
    expect(count).toBe(put.length);
    expect(errors[0]).toBe("a 'checkpoint' listener threw: listener bug");
    const last = metrics.at(-1);
    expect(last?.records).toBe(put.length);
    expect(last?.inFlight).toBe(0);
    expect(
      metrics.some((m) => m.shards.length === 2 && m.shards.every((s) => typeof s.millisBehind === 'number')),
    ).toBe(true);
  });

  it('restarts a shard from its checkpoint after a read error, losing nothing', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'flaky', 1);
    const put = await putKeyed(k, 'flaky', 3, 30);
    let gets = 0;
    // The third GetRecords fails as a dropped connection would, after the SDK's own retries.
    const flaky = {
      send: async (command: unknown) => {
        if (command instanceof GetRecordsCommand && ++gets === 3) throw new Error('socket hang up');
        return k.send(command as GetRecordsCommand);
      },
    } as unknown as KinesisClient;
    const seen = new Set<string>();
    const errors: string[] = [];
    const handle = startStream(
      defineStream({
        name: 'flaky',
        stream: 'flaky',
        batchSize: 10,
        async process(records) {
          for (const r of records) seen.add(JSON.stringify(r.json()));
        },
      }),
      {
        kinesis: flaky,
        store: new LocalDirStore(`${d.path}/flaky`),
        pacing: { ...pacing, idleMs: 10 },
        shardRefreshMs: 100,
      },
    );
    handle.on('error', (e) => errors.push(e.message));
    await waitFor(() => seen.size >= put.length);
    await handle.stop();
    expect(errors).toEqual(['socket hang up']);
    expect(seen.size).toBe(put.length);
  });

  it('stops, with one error naming the stream and the shard, when the stream is deleted while being read', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'doomed', 1);
    await putKeyed(k, 'doomed', 2, 10);
    // Shards are listed rarely here, so the shard's reader is the one that finds the stream gone.
    const c = consumer('doomed', 'doomed', new LocalDirStore(`${d.path}/doomed`), 60_000);
    await waitFor(() => c.seen.length >= 20);
    await k.send(new DeleteStreamCommand({ StreamName: 'doomed' }));
    await expect(c.handle.done).rejects.toThrow(StreamFailedError);
    await c.handle.stop();
    expect(c.errors).toHaveLength(1);
    expect(c.errors[0]).toBeInstanceOf(StreamFailedError);
    expect(c.errors[0]?.message).toMatch(
      /^stream doomed, shard shardId-000000000000: ResourceNotFoundException: /,
    );
    expect(c.errors[0]?.context.shardId).toBe('shardId-000000000000');
  });

  it('stops, with one error naming the stream and the shard, at a checkpoint Kinesis refuses', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'forged', 1);
    await putKeyed(k, 'forged', 2, 10);
    const store = new LocalDirStore(`${d.path}/forged`);
    const first = consumer('forged', 'forged', store);
    await waitFor(() => first.seen.length >= 20);
    await first.handle.stop();
    // Wherever the layout keeps it, the shard's checkpoint now names a record that never existed.
    const keys: string[] = [];
    for await (const o of store.list('streams/')) keys.push(o.key);
    const key = keys.find((key) => key.endsWith('checkpoints/shardId-000000000000.json')) ?? '';
    const saved = JSON.parse(new TextDecoder().decode(await store.get(key)));
    await store.put(key, JSON.stringify({ ...saved, sequenceNumber: '12345' }));
    const again = consumer('forged', 'forged', store);
    await expect(again.handle.done).rejects.toThrow(StreamFailedError);
    await again.handle.stop();
    expect(again.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^stream forged, shard shardId-000000000000: InvalidArgumentException: /),
    ]);
    expect(again.seen).toEqual([]);
  });
});
