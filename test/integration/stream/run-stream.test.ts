import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStream } from '../../../src/index.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import {
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  useEmulators,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('run-stream');
const emu = useEmulators(d);

describe('runStream', () => {
  it('runs a stream job file on worker threads through the backend registry, every record once', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'events', 2);
    const put = await putKeyed(k, 'events', 5, 40);
    const work = join(d.path, 'work');
    const stream = await runStream(resolve('jobs/etl-jsonl.ts'), {
      kinesis: k,
      workDir: work,
      concurrency: 2,
      pacing: { minIntervalMs: 10, idleMs: 30 },
    });
    expect(stream.job.name).toBe('etl-jsonl');
    const store = new LocalDirStore(work);
    const lines = async () => {
      const out: string[] = [];
      for await (const o of store.list('streams/etl-jsonl/out/'))
        out.push(
          ...new TextDecoder()
            .decode(await store.get(o.key))
            .trim()
            .split('\n'),
        );
      return out;
    };
    const deadline = Date.now() + 20_000;
    while ((await lines()).length < put.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await stream.stop();
    await stream.done;
    const got = (await lines()).map((l) => JSON.parse(l) as GenRecord);
    expect(got.map((r) => `${r.key}/${r.seq}`).sort()).toEqual(put.map((r) => `${r.key}/${r.seq}`).sort());
  });

  it('refuses an unknown backend, and a remote one without an s3:// work store, in one line', async () => {
    await expect(runStream(resolve('jobs/etl-jsonl.ts'), { backend: 'gcp' as 'aws' })).rejects.toThrow(
      'backend must be one of local, aws, sim, got "gcp"',
    );
    await expect(
      runStream(resolve('jobs/etl-jsonl.ts'), { backend: 'aws', workDir: d.path }),
    ).rejects.toThrow(/--backend aws needs --work s3:\/\/bucket\/prefix/);
    await expect(runStream(resolve('jobs/wordcount.ts'))).rejects.toThrow(/does not export a stream job/);
  });
});
