import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadJobFile } from '../../../src/backends/open-backend.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { startStream } from '../../../src/stream/consumer/start-stream.js';
import type { Stream, WindowDefinition } from '../../../src/stream/types.js';
import {
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('stream-jobs');
const emu = useEmulators(d);

const options = (store: LocalDirStore) => ({
  kinesis: kinesisClient(emu.kinesis.endpoint),
  store,
  pacing: { minIntervalMs: 10, idleMs: 30 },
  shardRefreshMs: 200,
});

async function readAll(store: LocalDirStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(new TextDecoder().decode(await store.get(o.key)));
  return out;
}

describe('example stream jobs', () => {
  it('jobs/etl-jsonl.ts writes every record once into JSONL objects', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'events', 2);
    const put = await putKeyed(k, 'events', 6, 50);
    const { job } = await loadJobFile(resolve('jobs/etl-jsonl.ts'), 'stream');
    const store = new LocalDirStore(`${d.path}/etl`);
    const handle = startStream({ ...job, batchWindowMs: 50 }, options(store));
    const lines = async () =>
      (await readAll(store, 'streams/etl-jsonl/out/')).flatMap((t) => t.trim().split('\n'));
    const deadline = Date.now() + 15_000;
    while ((await lines()).length < put.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await handle.stop();
    const got = (await lines()).map((l) => JSON.parse(l) as GenRecord & { _seq: string });
    expect(got.map((r) => `${r.key}/${r.seq}`).sort()).toEqual(put.map((r) => `${r.key}/${r.seq}`).sort());
    expect(got.every((r) => /^\d+$/.test(r._seq))).toBe(true);
  });

  it('jobs/clickstream.ts writes per-user counts per window equal to an oracle', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'clicks', 1);
    const { job } = await loadJobFile(resolve('jobs/clickstream.ts'), 'stream');
    // The job's one-minute window, shortened so the test sees several windows close.
    const ms = 200;
    const fast: Stream = { ...job, window: { ...(job.window as WindowDefinition<unknown>), ms } };
    const oracle = new Map<number, Record<string, number>>();
    const store = new LocalDirStore(`${d.path}/clicks`);
    const handle = startStream(
      {
        ...fast,
        async process(records, ctx) {
          for (const r of records) {
            const start = Math.floor(r.arrivedAt.getTime() / ms) * ms;
            const counts = oracle.get(start) ?? {};
            const { key } = r.json<GenRecord>();
            counts[key] = (counts[key] ?? 0) + 1;
            oracle.set(start, counts);
          }
          return fast.process(records, ctx);
        },
      },
      options(store),
    );
    for (let i = 0; i < 4; i++) {
      await putKeyed(k, 'clicks', 4, 5 + i);
      await new Promise((r) => setTimeout(r, 120));
    }
    let windows: { start: number; counts: Record<string, number> }[] = [];
    await waitFor(() => oracle.size > 0, 10_000);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      windows = (await readAll(store, 'streams/clickstream/windows/')).map((t) => JSON.parse(t));
      if (windows.length >= oracle.size) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await handle.stop();
    expect(new Map(windows.map((w) => [w.start, w.counts]))).toEqual(oracle);
  });
});
