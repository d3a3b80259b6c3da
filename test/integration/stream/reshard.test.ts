import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  type KinesisClient,
  ListShardsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { ShardReader } from '../../../src/stream/consumer/shard-reader.js';
import { startStream } from '../../../src/stream/consumer/start-stream.js';
import { defineStream } from '../../../src/stream/define-stream.js';
import {
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('reshard');
const emu = useEmulators(d);

async function waitActive(k: KinesisClient, name: string): Promise<void> {
  for (;;) {
    const s = await k.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('resharding and throttling', () => {
  it('reads a split parent to its end before its children', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'split', 1);
    await putKeyed(k, 'split', 8, 30);
    const shards = await k.send(new ListShardsCommand({ StreamName: 'split' }));
    const parent = shards.Shards?.[0]?.ShardId ?? '';
    await k.send(
      new SplitShardCommand({
        StreamName: 'split',
        ShardToSplit: parent,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitActive(k, 'split');
    // seq 30..59 of every key go to the children; each key must still be seen in order, parent first.
    const all = new Set<string>();
    for (let k2 = 0; k2 < 8; k2++) for (let s = 0; s < 60; s++) all.add(`k${k2}/${s}`);
    await putKeyed(k, 'split', 8, 30, (r) => ({ seq: r.seq + 30 }));
    const seen: { shardId: string; key: string; seq: number }[] = [];
    const handle = startStream(
      defineStream({
        name: 'split',
        stream: 'split',
        batchSize: 20,
        async process(records) {
          await new Promise((r) => setTimeout(r, 1));
          for (const r of records) seen.push({ shardId: r.shardId, ...r.json<GenRecord>() });
        },
      }),
      {
        kinesis: k,
        store: new LocalDirStore(`${d.path}/split`),
        pacing: { minIntervalMs: 10, idleMs: 50 },
        shardRefreshMs: 100,
      },
    );
    await waitFor(() => new Set(seen.map((s) => `${s.key}/${s.seq}`)).size >= all.size);
    await handle.stop();
    const lastParent = seen.findLastIndex((s) => s.shardId === parent);
    const firstChild = seen.findIndex((s) => s.shardId !== parent);
    expect(lastParent).toBe(8 * 30 - 1);
    expect(firstChild).toBeGreaterThan(lastParent);
    const perKey = new Map<string, number[]>();
    for (const s of seen) perKey.set(s.key, [...(perKey.get(s.key) ?? []), s.seq]);
    for (const [, seqs] of perKey) expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('paces GetRecords calls from their starts and asks for no more records than the read allows', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'paced', 1);
    await putKeyed(k, 'paced', 1, 30);
    const shards = await k.send(new ListShardsCommand({ StreamName: 'paced' }));
    const calls: { at: number; limit: number | undefined }[] = [];
    // A slow answer (40 ms) must not be added to the interval, nor let two calls start within it.
    const stub = {
      send: async (command: unknown) => {
        if (command instanceof GetRecordsCommand) {
          calls.push({ at: Date.now(), limit: command.input.Limit });
          await new Promise((r) => setTimeout(r, 40));
        }
        return k.send(command as GetRecordsCommand);
      },
    } as unknown as KinesisClient;
    const reader = new ShardReader(stub, 'paced', shards.Shards?.[0]?.ShardId ?? '', 'TRIM_HORIZON', {
      minIntervalMs: 100,
    });
    const got: number[] = [];
    for (const limit of [10, 7, 50_000]) got.push((await reader.read(limit)).records.length);
    expect(got).toEqual([10, 7, 13]);
    expect(calls.map((c) => c.limit)).toEqual([10, 7, 10_000]);
    const gaps = calls.slice(1).map((c, i) => c.at - (calls[i]?.at as number));
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(99);
  });

  it('backs off when GetRecords is throttled, then reads on', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'throttle', 1);
    await putKeyed(k, 'throttle', 1, 5);
    const shards = await k.send(new ListShardsCommand({ StreamName: 'throttle' }));
    const calls: number[] = [];
    let throttleLeft = 3;
    // A stub client: the first GetRecords calls are refused as Kinesis refuses a sixth call in a second.
    const stub = {
      send: async (command: unknown) => {
        if (command instanceof GetRecordsCommand) {
          calls.push(Date.now());
          if (throttleLeft-- > 0) {
            throw Object.assign(new Error('Rate exceeded for shard'), {
              name: 'ProvisionedThroughputExceededException',
            });
          }
        }
        return k.send(command as GetRecordsCommand);
      },
    } as unknown as KinesisClient;
    const reader = new ShardReader(stub, 'throttle', shards.Shards?.[0]?.ShardId ?? '', 'TRIM_HORIZON', {
      minIntervalMs: 10,
      throttleBaseMs: 40,
      throttleCapMs: 200,
    });
    const out = await reader.read(100);
    expect(out.records).toHaveLength(5);
    expect(reader.throttles).toBe(3);
    expect(calls).toHaveLength(4);
    const gaps = calls.slice(1).map((t, i) => t - (calls[i] as number));
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(38);
  });
});
