import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { startStream } from '../../../src/stream/consumer/start-stream.js';
import { defineStream } from '../../../src/stream/define-stream.js';
import {
  createStream,
  deleteStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('stream-identity');
const emu = useEmulators(d);

/** Runs the job `ident` on `stream` with one work folder until `expected` records are seen. */
async function consume(stream: string, store: LocalDirStore, expected: number) {
  const seen = new Set<string>();
  const errors: string[] = [];
  const handle = startStream(
    defineStream({
      name: 'ident',
      stream: 'unused',
      batchSize: 20,
      async process(records) {
        for (const r of records) {
          const { key, seq } = r.json<GenRecord>();
          seen.add(`${key}/${seq}`);
        }
      },
    }),
    {
      stream,
      kinesis: kinesisClient(emu.kinesis.endpoint),
      store,
      pacing: { minIntervalMs: 10, idleMs: 30 },
      shardRefreshMs: 100,
    },
  );
  handle.on('error', (e) => errors.push(e.message));
  try {
    await waitFor(() => seen.size >= expected, 10_000);
  } finally {
    await handle.stop();
  }
  return { seen, errors };
}

describe('checkpoints belong to a stream, not to a job name', () => {
  it('reads stream B from TRIM_HORIZON after stream A, with the same job and work folder', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    const store = new LocalDirStore(`${d.path}/a-then-b`);
    await createStream(k, 'ident-a', 2);
    await putKeyed(k, 'ident-a', 4, 25);
    expect((await consume('ident-a', store, 100)).seen.size).toBe(100);
    await createStream(k, 'ident-b', 2);
    await putKeyed(k, 'ident-b', 3, 10);
    const b = await consume('ident-b', store, 30);
    expect(b.seen.size).toBe(30);
    expect(b.errors).toEqual([]);
  });

  it('reads a stream deleted and created again under the same name from TRIM_HORIZON', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    const store = new LocalDirStore(`${d.path}/recreated`);
    await createStream(k, 'ident-re', 1);
    const created = Date.now();
    await putKeyed(k, 'ident-re', 2, 20);
    expect((await consume('ident-re', store, 40)).seen.size).toBe(40);
    await deleteStream(k, 'ident-re');
    // kinesalite stamps a stream's creation in whole seconds; Kinesis itself takes longer to delete one.
    await new Promise((r) => setTimeout(r, Math.max(0, created + 1100 - Date.now())));
    await createStream(k, 'ident-re', 1);
    await putKeyed(k, 'ident-re', 1, 15);
    const again = await consume('ident-re', store, 15);
    expect(again.seen.size).toBe(15);
    expect(again.errors).toEqual([]);
  });
});
