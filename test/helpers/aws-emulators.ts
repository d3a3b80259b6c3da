import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { freeLoopbackPort } from '../../src/dev/emulator-child.js';
import { type EmulatedFunction, startLambdaEmulator } from '../../src/dev/lambda-emulator.js';
import { S3RVER_CREDENTIALS, startS3Emulator } from '../../src/dev/s3-emulator.js';
import { startThrottleProxy } from '../../src/dev/throttle-proxy.js';
import { openStore } from '../../src/store/open-store.js';
import { type ReadRecords, readOutput } from './read-output.js';
import type { tempDir } from './temp.js';

// The SDK warns once per process that its 2027 releases will need Node 22; tests need not say so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A throttle switch in front of a service: every n-th request answered as AWS does when throttling. */
export interface Throttle {
  throttleEvery(n: number): void;
  throttled(): number;
}

/** An AWS-compatible environment the suites run against: emulators, or LocalStack. */
export interface AwsTestEnv {
  bucket: string;
  /** The first (or only) function. */
  functionName: string;
  /** Variables the driver's SDK clients read (endpoints, credentials, region). */
  env: Record<string, string>;
  /** Throttles Lambda invocations, when the environment can. */
  lambda?: Throttle;
  /** Answers S3 requests with 503 SlowDown, when the environment can. */
  s3?: Throttle;
  stop(): Promise<void>;
}

/**
 * The AWS backend's services on loopback: S3 (s3rver) and the Lambda Invoke API (serverless-offline,
 * serving the built runtime handler: `npm run build` first). Proxies in front of both throttle as
 * AWS does; the functions' own S3 calls go through the S3 proxy too. Each function sees the S3
 * endpoint and credentials plus its own `environment` (FANOUT_FAULTS, say): a function's
 * environment is fixed when the emulator starts, as a deployed function's configuration is.
 */
export async function startAwsEmulators(
  options: { bucket?: string; functions?: EmulatedFunction[] } = {},
): Promise<AwsTestEnv> {
  const bucket = options.bucket ?? 'fanout-it';
  const functions = options.functions ?? [{ name: 'fanout-runtime' }];
  const s3 = await startS3Emulator({ buckets: [bucket] });
  const s3Proxy = await startThrottleProxy(0, 's3');
  s3Proxy.setUpstream(Number(new URL(s3.endpoint).port));
  const env = {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: s3Proxy.endpoint,
  };
  // The Invoke API's port is chosen first so that functions can invoke themselves: a submitted
  // driver invokes its tasks, and the next driver, on the function it runs in.
  const port = await freeLoopbackPort();
  const lambda = await startLambdaEmulator({
    environment: { ...env, AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}` },
    functions,
    port,
  });
  return {
    bucket,
    functionName: functions[0]?.name ?? 'fanout-runtime',
    env: { ...env, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint },
    lambda,
    s3: s3Proxy,
    async stop() {
      await lambda.stop();
      await s3Proxy.close();
      await s3.stop();
    },
  };
}

/** Copies each example job's sample data (jobs/data/<job>/) to `s3://<bucket>/in/<job>/`. */
export async function uploadSamples(bucket: string, jobs: readonly string[]): Promise<void> {
  for (const job of jobs) {
    const dir = resolve('jobs/data', job);
    const store = openStore(`s3://${bucket}/in/${job}/`);
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const path = join(dir, file);
      if (statSync(path).isFile()) await store.put(file.split(sep).join('/'), readFileSync(path));
    }
  }
}

/** A job's output under `s3://<bucket>/<prefix>` copied into `local` and read by readOutput (which checks _SUCCESS and unique keys). */
export async function readS3Output(
  bucket: string,
  prefix: string,
  local: ReturnType<typeof tempDir>,
  read?: ReadRecords,
): Promise<Map<string, unknown>> {
  const rel = `copies/${prefix.replace(/\W/g, '_')}`;
  const store = openStore(`s3://${bucket}/${prefix}`);
  local.file(`${rel}/.keep`, '');
  for await (const o of store.list('')) local.file(`${rel}/${o.key}`, Buffer.from(await store.get(o.key)));
  return readOutput(join(local.path, rel), read);
}

/** What a run of the CLI printed, and its exit code. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI with only `env` (and PATH) for its environment. Asynchronously: emulators that
 * answer from this process (s3rver's proxy, the scheduler) must keep being served while it runs.
 */
export function runMrAsync(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve('bin/mr.js'), ...args],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
      },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** Writes `texts` as `0.txt`, `1.txt`, ... under `s3://<bucket>/<prefix>`. */
export async function uploadTexts(bucket: string, prefix: string, texts: readonly string[]): Promise<void> {
  const store = openStore(`s3://${bucket}/${prefix}`);
  for (const [i, t] of texts.entries()) await store.put(`${i}.txt`, t);
}

/** A job's state as its status in the work store `work` says, or undefined before it has one. */
export async function jobStateIn(work: string, jobId: string): Promise<string | undefined> {
  return openStore(work)
    .get(`jobs/${jobId}/status.json`)
    .then((b) => (JSON.parse(Buffer.from(b).toString('utf8')) as { state: string }).state)
    .catch(() => undefined);
}

/** Polls a job's state until `done` holds, and returns it; throws, naming the state, after `timeoutMs`. */
export async function waitForJobState(
  work: string,
  jobId: string,
  done: (state: string | undefined) => boolean,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await jobStateIn(work, jobId);
    if (done(state)) return state;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${state ?? 'not started'}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
