import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { startStream } from '../../../src/stream/consumer/start-stream.js';
import { defineStream } from '../../../src/stream/define-stream.js';
import type { WindowInfo } from '../../../src/stream/types.js';
import {
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('window');
const emu = useEmulators(d);

type Counts = Record<string, number>;

describe('tumbling windows', () => {
  it('emits per-key counts per window equal to an oracle over the records', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'win', 2);
    const ms = 150;
    const oracle = new Map<string, Counts>();
    const emitted = new Map<string, Counts>();
    const finals: WindowInfo[] = [];
    const handle = startStream(
      defineStream<Counts>({
        name: 'win',
        stream: 'win',
        batchSize: 7,
        async process(records) {
          for (const r of records) {
            const id = `${r.shardId}@${Math.floor(r.arrivedAt.getTime() / ms) * ms}`;
            const counts = oracle.get(id) ?? {};
            const { key } = r.json<GenRecord>();
            counts[key] = (counts[key] ?? 0) + 1;
            oracle.set(id, counts);
          }
        },
        window: {
          ms,
          reduce(state, records) {
            const counts = state ?? {};
            for (const r of records) {
              const { key } = r.json<GenRecord>();
              counts[key] = (counts[key] ?? 0) + 1;
            }
            return counts;
          },
          emit(state, w) {
            finals.push(w);
            emitted.set(`${w.shardId}@${w.start}`, state);
          },
        },
      }),
      {
        kinesis: k,
        store: new LocalDirStore(`${d.path}/win`),
        pacing: { minIntervalMs: 10, idleMs: 30 },
        shardRefreshMs: 200,
      },
    );
    for (let i = 0; i < 6; i++) {
      await putKeyed(k, 'win', 5, 10 + i);
      await new Promise((r) => setTimeout(r, 90));
    }
    await waitFor(() => oracle.size > 0 && [...oracle.keys()].every((id) => emitted.has(id)), 10_000);
    await handle.stop();
    expect(emitted).toEqual(oracle);
    expect(finals.every((w) => w.final && w.end - w.start === ms)).toBe(true);
    expect(new Set(finals.map((w) => `${w.shardId}@${w.start}`)).size).toBe(finals.length);
  });

  it('rejects window state over 1 MB with a clear error', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'bigwin', 1);
    await putKeyed(k, 'bigwin', 1, 3);
    const errors: string[] = [];
    const handle = startStream(
      defineStream<string>({
        name: 'bigwin',
        stream: 'bigwin',
        maxRetries: 0,
        window: { ms: 60_000, reduce: () => 'x'.repeat(1_100_000), emit() {} },
      }),
      { kinesis: k, store: new LocalDirStore(`${d.path}/bigwin`), pacing: { minIntervalMs: 10, idleMs: 30 } },
    );
    handle.on('error', (e) => errors.push(e.message));
    await waitFor(() => errors.length > 0);
    await handle.stop();
    expect(errors[0]).toMatch(/window state of shard .* is \d+ bytes as JSON, over the 1048576-byte limit/);
  });
});
