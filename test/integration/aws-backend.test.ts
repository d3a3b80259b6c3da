import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/backends/open-store.js';
import { startLambdaEmulator } from '../../src/dev/lambda-emulator.js';
import { type S3Emulator, S3RVER_CREDENTIALS, startS3Emulator } from '../../src/dev/s3-emulator.js';
import { startThrottleProxy, type ThrottleProxy } from '../../src/dev/throttle-proxy.js';
import { type ProgressEvent, type RunOptions, runJob } from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDir } from '../helpers/temp.js';

// The AWS backend end to end on loopback: the driver ships the job bundle to S3 (s3rver) and invokes
// the built runtime handler through the Lambda Invoke API (serverless-offline). Proxies in front of
// both can throttle as AWS does. Every example job must give the same output as the local backend.
const BUCKET = 'fanout-it';
const JOBS = ['wordcount', 'top-urls', 'revenue-by-country', 'inverted-index'] as const;

let s3: S3Emulator;
let s3Proxy: ThrottleProxy;
let lambda: Awaited<ReturnType<typeof startLambdaEmulator>>;
const local = tempDir('aws-backend');

beforeAll(async () => {
  s3 = await startS3Emulator({ buckets: [BUCKET] });
  s3Proxy = await startThrottleProxy(0, 's3');
  s3Proxy.setUpstream(Number(new URL(s3.endpoint).port));
  const aws = {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: s3Proxy.endpoint,
  };
  lambda = await startLambdaEmulator({ environment: aws });
  // This test file runs in its own process: the driver's SDK clients read these, as they would in a shell.
  Object.assign(process.env, aws, { AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint });
  for (const job of JOBS) {
    const dir = resolve('jobs/data', job);
    const store = openStore(`s3://${BUCKET}/in/${job}/`);
    for (const name of readdirSync(dir)) await store.put(name, readFileSync(join(dir, name)));
  }
}, 60_000);

afterAll(async () => {
  await lambda?.stop();
  await s3Proxy?.close();
  await s3?.stop();
  local.cleanup();
});

/** A job's S3 output read the way readOutput reads a local one (it checks _SUCCESS and unique keys). */
async function readS3Output(prefix: string): Promise<Map<string, unknown>> {
  const dir = local.file(`copies/${prefix.replace(/\W/g, '_')}/.keep`, '').replace(/\/\.keep$/, '');
  const store = openStore(`s3://${BUCKET}/${prefix}`);
  for await (const o of store.list('')) {
    const path = join(dir, o.key);
    local.file(path.slice(local.path.length + 1), Buffer.from(await store.get(o.key)));
  }
  return readOutput(dir);
}

const awsRun = (job: string, out: string, extra: Partial<RunOptions>) =>
  runJob(resolve('jobs', `${job}.ts`), {
    backend: 'aws',
    input: [`s3://${BUCKET}/in/${job}/`],
    output: `s3://${BUCKET}/${out}/`,
    workDir: `s3://${BUCKET}/`,
    concurrency: 4,
    splitSize: 64 * 1024,
    retryBaseMs: 10,
    ...extra,
  });

describe('the aws backend against emulators', () => {
  it.each(JOBS)('%s gives the same output as the local backend', async (job) => {
    const viaAws = await awsRun(job, `out/${job}`, {});
    const localOut = join(local.path, `local-${job}`);
    const viaLocal = await runJob(resolve('jobs', `${job}.ts`), {
      input: [resolve('jobs/data', job)],
      output: localOut,
      workDir: join(local.path, 'work'),
      splitSize: 64 * 1024,
      concurrency: 2,
    });
    expect(await readS3Output(`out/${job}/`)).toEqual(await readOutput(localOut));
    expect(viaAws.counters).toMatchObject({
      inputRecords: viaLocal.counters.inputRecords,
      outputRecords: viaLocal.counters.outputRecords,
      retries: 0,
    });
    // The bundle was shipped once, by hash; intermediate data is gone after success.
    const keys: string[] = [];
    for await (const o of openStore(`s3://${BUCKET}/`).list('')) keys.push(o.key);
    expect(keys.filter((k) => k.startsWith('bundles/')).length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.startsWith(`jobs/${viaAws.jobId}/data/`))).toEqual([]);
  });

  it('still counts exactly when Lambda throttles a fraction of invocations, and adapts', async () => {
    const events: ProgressEvent[] = [];
    const before = lambda.throttled();
    lambda.throttleEvery(3);
    try {
      await awsRun('wordcount', 'out/throttled-lambda', {
        concurrency: 6,
        onProgress: (e) => events.push(e),
      });
    } finally {
      lambda.throttleEvery(0);
    }
    expect(lambda.throttled() - before).toBeGreaterThan(2);
    const cuts = events.filter((e) => e.type === 'concurrency' && e.reason === 'throttled');
    expect(cuts.length).toBeGreaterThan(0);
    expect(await readS3Output('out/throttled-lambda/')).toEqual(await readS3Output('out/wordcount/'));
  });

  it('still counts exactly when S3 answers 503 SlowDown to a fraction of requests', async () => {
    const before = s3Proxy.throttled();
    s3Proxy.throttleEvery(8);
    try {
      await awsRun('wordcount', 'out/slowdown', {});
    } finally {
      s3Proxy.throttleEvery(0);
    }
    expect(s3Proxy.throttled() - before).toBeGreaterThan(3);
    expect(await readS3Output('out/slowdown/')).toEqual(await readS3Output('out/wordcount/'));
  });
});
