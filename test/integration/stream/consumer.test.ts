import { resolve } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it, vi } from 'vitest';
import { LocalWorkerPool } from '../../../src/backends/local-pool.js';
import { loadJobFile } from '../../../src/backends/open-backend.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import type { DeadLetter } from '../../../src/stream/consumer/dead-letters.js';
import { invokerProcess } from '../../../src/stream/consumer/invoker-process.js';
import { type StreamOptions, startStream } from '../../../src/stream/consumer/start-stream.js';
import { defineStream } from '../../../src/stream/define-stream.js';
import type { StreamDefinition, StreamRecord } from '../../../src/stream/types.js';
import {
  createQueue,
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  sqsClient,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('stream');
const emu = useEmulators(d);

const fast = { minIntervalMs: 10, idleMs: 50 };
const options = (name: string): StreamOptions => ({
  kinesis: kinesisClient(emu.kinesis.endpoint),
  sqs: sqsClient(emu.sqs.endpoint),
  store: new LocalDirStore(`${d.path}/${name}`),
  pacing: fast,
  shardRefreshMs: 200,
  metricsIntervalMs: 100,
  retryBaseMs: 5,
});

/** Records each key's seqs in processing order. */
function collector() {
  const seen = new Map<string, number[]>();
  let count = 0;
  return {
    seen,
    get count() {
      return count;
    },
    add(records: StreamRecord[]) {
      for (const r of records) {
        const { key, seq } = r.json<GenRecord>();
        let list = seen.get(key);
        if (!list) {
          list = [];
          seen.set(key, list);
        }
        list.push(seq);
        count++;
      }
    },
  };
}

const job = (name: string, stream: string, rest: Partial<StreamDefinition>) =>
  defineStream({ name, stream, batchSize: 50, process: async () => {}, ...rest });

/** Lines written to stderr (this thread's, and the worker threads' piped into it) while `fn` runs. */
async function stderrLines(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

describe('stream consumer on kinesalite', () => {
  it('keeps per-key order under parallelization 4 and processes every record', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'order', 2);
    const put = await putKeyed(k, 'order', 20, 100);
    const c = collector();
    let concurrent = 0;
    let maxConcurrent = 0;
    const handle = startStream(
      job('order', 'order', {
        parallelization: 4,
        async process(records) {
          maxConcurrent = Math.max(maxConcurrent, ++concurrent);
          await new Promise((r) => setTimeout(r, 2));
          c.add(records);
          concurrent--;
        },
      }),
      options('order'),
    );
    await waitFor(() => c.count >= put.length);
    await handle.stop();
    expect(c.count).toBe(put.length);
    for (const [, seqs] of c.seen) expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(c.seen.size).toBe(20);
    expect(maxConcurrent).toBeGreaterThan(1);
  });

  it('isolates poison records by bisection and dead-letters them with their metadata', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    const sqs = sqsClient(emu.sqs.endpoint);
    await createStream(k, 'poison', 1);
    const url = await createQueue(sqs, 'poison-dlq');
    const poison = (r: GenRecord) => r.key === 'k3' && (r.seq === 7 || r.seq === 40);
    const put = await putKeyed(k, 'poison', 5, 60, (r) => ({ poison: poison(r) }));
    const c = collector();
    const handle = startStream(
      job('poison', 'poison', {
        batchSize: 64,
        maxRetries: 2,
        dlq: 'poison-dlq',
        async process(records) {
          if (records.some((r) => r.json<{ poison: boolean }>().poison)) throw new Error('poison!');
          c.add(records);
        },
      }),
      options('poison'),
    );
    let dead = 0;
    handle.on('metrics', (m) => {
      dead = m.deadLetters;
    });
    await waitFor(() => c.count >= put.length - 2 && dead >= 2);
    await handle.stop();
    expect(c.count).toBe(put.length - 2);
    const msgs = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    const letters = (msgs.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as DeadLetter);
    expect(letters).toHaveLength(2);
    for (const l of letters) {
      expect(l).toMatchObject({
        stream: 'poison',
        partitionKey: 'k3',
        error: expect.stringContaining('poison!'),
        attempts: 3,
      });
      expect(l.shardId).toMatch(/^shardId-/);
      expect(l.sequenceNumber).toMatch(/^\d+$/);
      expect(JSON.parse(Buffer.from(l.data, 'base64').toString()).poison).toBe(true);
    }
  });

  it('restarts from its checkpoints without losing a record', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'restart', 2);
    const put = await putKeyed(k, 'restart', 10, 100);
    const c = collector();
    const def = job('restart', 'restart', {
      batchSize: 25,
      async process(records) {
        await new Promise((r) => setTimeout(r, 5));
        c.add(records);
      },
    });
    const o = options('restart');
    for (let round = 0; round < 3; round++) {
      const handle = startStream(def, o);
      await new Promise((r) => setTimeout(r, 150));
      await handle.stop();
    }
    const handle = startStream(def, o);
    await waitFor(() => [...c.seen.values()].every((s) => new Set(s).size === 100) && c.seen.size === 10);
    await handle.stop();
    for (const [, seqs] of c.seen) expect(new Set(seqs).size).toBe(100);
    // At-least-once, not at-most: redelivery is allowed, but only of records not checkpointed.
    expect(c.count).toBeGreaterThanOrEqual(put.length);
  });

  it('writes ctx.log lines the same way in this thread as in a worker thread, prefixed with job and task', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'log', 1);
    await putKeyed(k, 'log', 1, 5);
    const file = resolve('test/fixtures/jobs/stream-log.ts');
    const { job, bundle } = await loadJobFile(file, 'stream', `${d.path}/bundles`);
    const run = (name: string, process?: StreamOptions['process']) =>
      stderrLines(async () => {
        let checkpoints = 0;
        const handle = startStream(job, { ...options(name), ...(process && { process }) });
        handle.on('checkpoint', () => checkpoints++);
        // Five records, then the window closes once the shard is caught up and the window is over.
        await waitFor(() => checkpoints >= 2);
        await handle.stop();
      });
    const here = await run('log-here');
    const pool = new LocalWorkerPool({ bundlePath: bundle.path, size: 1 });
    const worker = await run('log-worker', invokerProcess(pool, `file://${d.path}/log-worker`, 'log'));
    await pool.close();
    const batchLine = /^\[stream-stream-log shardId-000000000000-\d+\] processed 5 \{"attempt":1\}$/;
    const windowLine = /^\[stream-stream-log shardId-000000000000-window\] warn: window of 5$/;
    for (const lines of [here, worker]) {
      expect(lines.filter((l) => batchLine.test(l))).toHaveLength(1);
      expect(lines.filter((l) => windowLine.test(l))).toHaveLength(1);
    }
  });

  it('auto-tunes lanes up while behind, keeping per-key order', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'tune', 1);
    const put = await putKeyed(k, 'tune', 16, 60);
    // Let the records age past the tuner's one-second "behind" mark before the consumer starts.
    await new Promise((r) => setTimeout(r, 1100));
    const c = collector();
    let maxLanes = 0;
    const handle = startStream(
      job('tune', 'tune', {
        batchSize: 20,
        async process(records) {
          await new Promise((r) => setTimeout(r, 15));
          c.add(records);
        },
      }),
      { ...options('tune'), autoTune: true, autoTuneMs: 100, metricsIntervalMs: 50 },
    );
    handle.on('metrics', (m) => {
      for (const s of m.shards) maxLanes = Math.max(maxLanes, s.lanes);
    });
    await waitFor(() => c.count >= put.length);
    await handle.stop();
    expect(maxLanes).toBeGreaterThan(1);
    expect(c.count).toBe(put.length);
    for (const [, seqs] of c.seen) expect(seqs).toEqual(seqs.map((_, i) => i));
  });
});
