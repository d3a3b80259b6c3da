import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleJob } from '../../../src/backends/bundle-job.js';
import { createLambdaClient, LambdaInvoker } from '../../../src/backends/lambda-invoker.js';
import { loadJobFile } from '../../../src/backends/open-backend.js';
import { shipBundle } from '../../../src/backends/ship-bundle.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { invokerProcess } from '../../../src/stream/consumer/invoker-process.js';
import { startStream } from '../../../src/stream/consumer/start-stream.js';
import {
  createStream,
  type GenRecord,
  kinesisClient,
  putKeyed,
  startEmulators,
} from '../../helpers/kinesis.js';
import { type LambdaEmulator, startLambdaEmulator } from '../../helpers/lambda-emulator.js';
import { tempDir } from '../../helpers/temp.js';

let emu: Awaited<ReturnType<typeof startEmulators>>;
let lambda: LambdaEmulator;
const d = tempDir('stream-lambda');
beforeAll(async () => {
  [emu, lambda] = await Promise.all([startEmulators(), startLambdaEmulator()]);
});
afterAll(async () => {
  await Promise.all([emu.stop(), lambda?.stop()]);
  d.cleanup();
});

describe('stream batches as Lambda invocations', () => {
  it('runs jobs/etl-jsonl.ts batches on the runtime function, every record written', async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    await createStream(k, 'events', 2);
    const put = await putKeyed(k, 'events', 4, 40);
    const store = new LocalDirStore(`${d.path}/work`);
    const file = resolve('jobs/etl-jsonl.ts');
    const { job } = await loadJobFile(file, 'stream', `${d.path}/bundles`);
    const ref = await shipBundle(await bundleJob(file, `${d.path}/bundles`), store);
    const client = createLambdaClient(2, {
      endpoint: lambda.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const invoker = new LambdaInvoker({
      functionName: 'fanout-runtime',
      bundle: ref,
      concurrency: 2,
      client,
    });
    const handle = startStream(
      { ...job, batchWindowMs: 0, batchSize: 50 },
      {
        kinesis: k,
        store,
        pacing: { minIntervalMs: 10, idleMs: 30 },
        process: invokerProcess(invoker, store.url, 'events'),
      },
    );
    const lines = async () => {
      const out: string[] = [];
      for await (const o of store.list('streams/etl-jsonl/out/')) {
        out.push(
          ...new TextDecoder()
            .decode(await store.get(o.key))
            .trim()
            .split('\n'),
        );
      }
      return out;
    };
    let got: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      got = await lines();
      if (got.length >= put.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await handle.stop();
    await invoker.close();
    const keys = got.map((l) => JSON.parse(l) as GenRecord).map((r) => `${r.key}/${r.seq}`);
    expect(new Set(keys)).toEqual(new Set(put.map((r) => `${r.key}/${r.seq}`)));
  });
});
