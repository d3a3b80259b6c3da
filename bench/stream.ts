/**
 * Stream benchmark on kinesalite (in this process, in memory):
 *  1. throughput: the same records read by a raw GetRecords loop (no pacing, no processing) and by the
 *     consumer (`startStream`, a no-op `process` in this thread, real Kinesis pacing of 5 calls/s/shard);
 *  2. end-to-end latency (put to `process`) at a steady put rate, p50 and p99, with default pacing.
 *
 *   npm run bench:stream -- [--records 40000] [--shards 4] [--rate 500] [--seconds 5]
 *
 * kinesalite shares this process's CPU with the consumer, so both throughput figures are bounded by
 * the emulator; compare them with each other, not with Kinesis.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startKinesisEmulator } from '../src/dev/kinesis-emulator.js';
import { LocalDirStore } from '../src/store/local-dir-store.js';
import { startStream } from '../src/stream/consumer/start-stream.js';
import { defineStream } from '../src/stream/define-stream.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '40000' },
    shards: { type: 'string', default: '4' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '5' },
  },
});
const RECORDS = Number(values.records);
const SHARDS = Number(values.shards);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);

const emu = await startKinesisEmulator();
const client = new KinesisClient({
  endpoint: emu.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  requestHandler: new NodeHttpHandler(),
});
const work = mkdtempSync(join(tmpdir(), 'fanout-bench-stream-'));

async function create(name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitUntilStreamExists(
    { client, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.2 },
    { StreamName: name },
  );
}

async function put(name: string, n: number, offset = 0): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    const count = Math.min(500, n - i);
    await client.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: Array.from({ length: count }, (_, j) => ({
          PartitionKey: `k${(offset + i + j) % 64}`,
          Data: new TextEncoder().encode(JSON.stringify({ seq: offset + i + j, ts: Date.now() })),
        })),
      }),
    );
  }
}

/**
 * Reads every shard to its tip with GetRecords (10,000 records a call, Kinesis's most): as fast as
 * kinesalite answers (`intervalMs` 0, the ceiling for any consumer), or paced to one call per
 * shard every `intervalMs`, as Kinesis allows (5 calls/s per shard): the baseline the consumer, which
 * keeps the same limit, is judged against.
 */
async function rawRead(name: string, intervalMs: number): Promise<number> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  const counts = await Promise.all(
    shards.map(async (s) => {
      let it = (
        await client.send(
          new GetShardIteratorCommand({
            StreamName: name,
            ShardId: s.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      let n = 0;
      let last = 0;
      while (it) {
        const wait = last + intervalMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        last = performance.now();
        const out = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
        n += out.Records?.length ?? 0;
        if ((out.Records?.length ?? 0) === 0 && out.MillisBehindLatest === 0) break;
        it = out.NextShardIterator;
      }
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

async function consume(name: string, expected: number): Promise<number> {
  let n = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const t0 = performance.now();
  const handle = startStream(
    defineStream({
      name: `bench-${name}`,
      stream: name,
      batchSize: 2000,
      async process(records) {
        n += records.length;
        if (n >= expected) resolveDone();
      },
    }),
    { kinesis: client, store: new LocalDirStore(join(work, name)), metricsIntervalMs: 60_000 },
  );
  await done;
  const ms = performance.now() - t0;
  await handle.stop();
  return ms;
}

await create('tput', SHARDS);
await put('tput', RECORDS);
await rawRead('tput', 0); // warm-up: the first pass pays for JIT and kinesalite's first reads
const r0 = performance.now();
const rawCount = await rawRead('tput', 0);
const rawMs = performance.now() - r0;
const p0 = performance.now();
const pacedCount = await rawRead('tput', 200);
const pacedMs = performance.now() - p0;
const consumerMs = await consume('tput', RECORDS);

await create('latency', SHARDS);
const latencies: number[] = [];
const handle = startStream(
  defineStream({
    name: 'bench-latency',
    stream: 'latency',
    batchSize: 500,
    async process(records) {
      const now = Date.now();
      for (const r of records) latencies.push(now - r.json<{ ts: number }>().ts);
    },
  }),
  { kinesis: client, store: new LocalDirStore(join(work, 'latency')), metricsIntervalMs: 60_000 },
);
const perTick = Math.max(1, Math.round(RATE / 10));
let sent = 0;
const start = Date.now();
while (Date.now() - start < SECONDS * 1000) {
  await put('latency', perTick, sent);
  sent += perTick;
  await new Promise((r) => setTimeout(r, Math.max(0, start + (sent / RATE) * 1000 - Date.now())));
}
const until = Date.now() + 10_000;
while (latencies.length < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
await handle.stop();
await emu.stop();
rmSync(work, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const rawPerSec = Math.round((rawCount / rawMs) * 1000);
const pacedPerSec = Math.round((pacedCount / pacedMs) * 1000);
const consumerPerSec = Math.round((RECORDS / consumerMs) * 1000);
const result = {
  at: new Date().toISOString(),
  records: RECORDS,
  shards: SHARDS,
  rawGetRecordsPerSec: rawPerSec,
  consumerPerSec,
  ratioConsumerToRaw: +(consumerPerSec / rawPerSec).toFixed(2),
  pacedGetRecordsPerSec: pacedPerSec,
  ratioConsumerToPaced: +(consumerPerSec / pacedPerSec).toFixed(2),
  latency: { rate: RATE, seconds: SECONDS, sent, received: latencies.length, p50Ms: pct(50), p99Ms: pct(99) },
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `consumer ${consumerPerSec} records/s vs GetRecords paced to 5 calls/s per shard ${pacedPerSec} records/s: ` +
    `ratio ${result.ratioConsumerToPaced} (unpaced ${rawPerSec} records/s: ${result.ratioConsumerToRaw}); ` +
    `latency at ${RATE} records/s: p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms\n`,
);
mkdirSync('bench/results', { recursive: true });
appendFileSync('bench/results/stream.jsonl', `${JSON.stringify(result)}\n`);
