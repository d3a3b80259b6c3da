import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/temp.js';
import { countWords } from '../helpers/words.js';

const run = promisify(execFile);
const MR = resolve('bin/mr.js');
const d = tempDir('dev-stack');
const EXPORTS = [
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_LAMBDA',
  'AWS_ENDPOINT_URL_KINESIS',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_SCHEDULER',
  'AWS_ENDPOINT_URL_EVENTBRIDGE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
];

/**
 * The only environment the children get: no real AWS settings, and config files that do not exist,
 * so no SDK in them can find real credentials or a real endpoint.
 */
const baseEnv = {
  PATH: process.env.PATH ?? '',
  AWS_CONFIG_FILE: join(d.path, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(d.path, 'no-aws-credentials'),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

let dev: ChildProcess | undefined;
let devStdout = '';
let devStderr = '';
/** The variables `mr dev` printed. */
let env: Record<string, string> = {};

/** Starts `mr dev` and resolves with its export lines once all nine have been printed. */
function startDev(): Promise<Record<string, string>> {
  const child = spawn(process.execPath, [MR, 'dev', '--port-base', '0'], {
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev = child;
  child.stderr?.on('data', (b: Buffer) => {
    devStderr += b.toString();
  });
  return new Promise((res, rej) => {
    const found: Record<string, string> = {};
    const timer = setTimeout(() => rej(new Error(`mr dev printed no exports in 30 s: ${devStderr}`)), 30_000);
    child.once('exit', (code) => rej(new Error(`mr dev exited with ${code}: ${devStderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      devStdout += `${line}\n`;
      const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined) found[m[1]] = m[2];
      if (EXPORTS.every((name) => name in found)) {
        clearTimeout(timer);
        res(found);
      }
    });
  });
}

const mr = (args: string[]) => run(process.execPath, [MR, ...args], { env: { ...baseEnv, ...env } });
const credentials = () => ({
  accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
  secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
});
const clientConfig = (service: string) => ({
  endpoint: env[`AWS_ENDPOINT_URL_${service}`],
  region: env.AWS_REGION,
  credentials: credentials(),
});

/** Waits up to 60 s for an object of the dev bucket. */
async function waitForObject(s3: S3Client, key: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const found = await s3.send(new HeadObjectCommand({ Bucket: 'fanout-dev', Key: key })).then(
      () => true,
      () => false,
    );
    if (found) return;
    if (Date.now() > until) throw new Error(`no ${key} after 60 s: ${devStderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The word counts in a local copy of an output folder's eight part files. */
async function readCounts(dir: string): Promise<Map<string, unknown>> {
  const counts = new Map<string, unknown>();
  for (let p = 0; p < 8; p++) {
    const part = await readFile(join(dir, `part-0000${p}.jsonl`), 'utf8').catch(() => '');
    for (const line of part.split('\n').filter(Boolean)) {
      const { key, value } = JSON.parse(line) as { key: string; value: number };
      counts.set(JSON.stringify(key), value);
    }
  }
  return counts;
}

beforeAll(async () => {
  // This process's SDK clients get explicit endpoints and credentials; keep them off real config too.
  for (const [name, value] of Object.entries(baseEnv)) if (name !== 'PATH') vi.stubEnv(name, value);
  env = await startDev();
});

afterAll(() => {
  vi.unstubAllEnvs();
  // A test that failed before the SIGINT test must not leave the stack running.
  if (dev && dev.exitCode === null && dev.signalCode === null) dev.kill('SIGKILL');
  d.cleanup();
});

describe('mr dev', () => {
  it('prints exactly the nine export lines on stdout, with the emulator credentials', () => {
    expect(devStdout.trim().split('\n')).toHaveLength(9);
    expect(Object.keys(env)).toEqual(EXPORTS);
    expect(env).toMatchObject({
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    });
    for (const name of EXPORTS.slice(0, 6)) expect(env[name]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('mr cp copies a local folder into the bucket, and back', async () => {
    const text = { 'a.txt': 'to be or not to be\n', 'sub/b.txt': 'that is the question\n' };
    for (const [name, body] of Object.entries(text)) d.file(`local/${name}`, body);
    const up = await mr(['cp', join(d.path, 'local'), 's3://fanout-dev/in/']);
    expect(up.stdout).toMatch(/a\.txt -> s3:\/\/fanout-dev\/in\/a\.txt\n/);
    expect(up.stdout).toMatch(/copied 2 files, 40 B in [\d.]+ s\n$/);
    const s3 = new S3Client({ ...clientConfig('S3'), forcePathStyle: true });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'fanout-dev', Prefix: 'in/' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(['in/a.txt', 'in/sub/b.txt']);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'fanout-dev', Key: 'in/sub/b.txt' }));
    expect(await got.Body?.transformToString()).toBe(text['sub/b.txt']);
    s3.destroy();
    await mr(['cp', '--quiet', 's3://fanout-dev/in/', `${join(d.path, 'back')}/`]);
    expect(await readFile(join(d.path, 'back/sub/b.txt'), 'utf8')).toBe(text['sub/b.txt']);
  });

  it('serves the runtime handler as fanout-runtime: a malformed event is a function error', async () => {
    const lambda = new LambdaClient(clientConfig('LAMBDA'));
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'fanout-runtime', Payload: Buffer.from('{"hello":"world"}') }),
    );
    lambda.destroy();
    expect(out.FunctionError).toBe('Unhandled');
    expect(Buffer.from(out.Payload ?? []).toString()).toMatch(/task/);
  });

  it('runs a job with --backend aws through the emulated Lambda and S3', async () => {
    const text = 'the cat sat on the mat\nthe dog\n';
    d.file('job/in.txt', text);
    await mr(['cp', '-q', join(d.path, 'job/in.txt'), 's3://fanout-dev/job/in/']);
    const out = 's3://fanout-dev/job/out/';
    await mr([
      'run',
      'jobs/wordcount.ts',
      '--backend',
      'aws',
      '-i',
      's3://fanout-dev/job/in/',
      '-o',
      out,
      '-q',
    ]);
    const s3 = new S3Client({ ...clientConfig('S3'), forcePathStyle: true });
    await s3.send(new HeadObjectCommand({ Bucket: 'fanout-dev', Key: 'job/out/_SUCCESS' }));
    s3.destroy();
    await mr(['cp', '-q', out, `${join(d.path, 'job/out')}/`]);
    expect(await readCounts(join(d.path, 'job/out'))).toEqual(countWords(text));
  });

  it('fires a schedule made with mr schedule --fire-now: its driver runs in the function, output under the day it was due', async () => {
    const text = 'a schedule fired\nthe job ran\n';
    d.file('sched/in.txt', text);
    await mr(['cp', '-q', join(d.path, 'sched/in.txt'), 's3://fanout-dev/sched/in/']);
    const day = () => new Date().toISOString().slice(0, 10);
    const before = day();
    // The run's notice goes to a webhook here, POSTed by the driver in the function.
    const notices: { event: string; jobId: string; output: string }[] = [];
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        notices.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const made = await mr([
      'schedule',
      'jobs/wordcount.ts',
      '--notify',
      `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      '--rate',
      '1 day',
      '--name',
      'daily-wc',
      '-i',
      's3://fanout-dev/sched/in/',
      '-o',
      's3://fanout-dev/sched/{date}/',
      '--role-arn',
      'arn:aws:iam::000000000000:role/fanout-scheduler',
      '--fire-now',
    ]);
    expect(made.stdout).toMatch(
      /^schedule daily-wc: rate\(1 day\) UTC, .*\nfired daily-wc as due at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/,
    );
    const due = /as due at (\S+)/.exec(made.stdout)?.[1] as string;
    expect([before, day()]).toContain(due.slice(0, 10));
    const s3 = new S3Client({ ...clientConfig('S3'), forcePathStyle: true });
    await waitForObject(s3, `sched/${due.slice(0, 10)}/_SUCCESS`);
    s3.destroy();
    await mr(['cp', '-q', `s3://fanout-dev/sched/${due.slice(0, 10)}/`, `${join(d.path, 'sched/out')}/`]);
    expect(await readCounts(join(d.path, 'sched/out'))).toEqual(countWords(text));
    const jobId = `daily-wc-${due.replace(/[-:TZ]/g, '')}`;
    for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    hook.close();
    expect(notices).toMatchObject([
      { event: 'job-succeeded', jobId, output: `s3://fanout-dev/sched/${due.slice(0, 10)}/` },
    ]);
    const listed = await mr(['schedules']);
    expect(listed.stdout).toMatch(
      /^daily-wc {2}rate\(1 day\) UTC {2}ENABLED {2}.*wordcount\.ts -> s3:\/\/fanout-dev\/sched\/\{date\}\/\n$/,
    );
    await mr(['unschedule', 'daily-wc']);
  }, 90_000);

  it("runs mr on-upload's job over each new object, once, keeping the bucket's other notifications", async () => {
    const s3 = new S3Client({ ...clientConfig('S3'), forcePathStyle: true });
    // A notification the bucket had before: mr on-upload must not lose it.
    const queue = {
      Id: 'existing',
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:audit',
      Events: ['s3:ObjectRemoved:*' as const],
    };
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'fanout-dev',
        NotificationConfiguration: { QueueConfigurations: [queue] },
      }),
    );
    const made = await mr([
      'on-upload',
      'jobs/wordcount.ts',
      '--bucket',
      'fanout-dev',
      '--prefix',
      'drop/',
      '--suffix',
      '.txt',
      '--name',
      'drop-wc',
      '-o',
      's3://fanout-dev/counted/{name}/',
    ]);
    expect(made.stdout).toMatch(
      /^on upload to s3:\/\/fanout-dev\/drop\/\*\.txt: .*wordcount\.ts -> s3:\/\/fanout-dev\/counted\/\{name\}\/ \(rule fanout-drop-wc\)\n$/,
    );
    const config = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'fanout-dev' }));
    expect(config.QueueConfigurations).toEqual([queue]);
    expect(config.EventBridgeConfiguration).toEqual({});

    const texts = { 'a.txt': 'one upload\nmakes one run\n', 'b.txt': 'another upload\n' };
    for (const [name, text] of Object.entries(texts)) d.file(`drop/${name}`, text);
    d.file('drop/skip.csv', 'not matched by the suffix\n');
    await mr(['cp', '-q', join(d.path, 'drop'), 's3://fanout-dev/drop/']);
    for (const [name, text] of Object.entries(texts)) {
      const base = name.slice(0, -4);
      await waitForObject(s3, `counted/${base}/_SUCCESS`);
      await mr(['cp', '-q', `s3://fanout-dev/counted/${base}/`, `${join(d.path, `counted/${base}`)}/`]);
      expect(await readCounts(join(d.path, `counted/${base}`))).toEqual(countWords(text));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'fanout-dev', Prefix: 'counted/skip/' }));
    expect(listed.KeyCount ?? 0).toBe(0);

    // The same write delivered twice (EventBridge delivers at least once): one run, then a skip.
    await s3.send(
      new PutObjectCommand({ Bucket: 'fanout-dev', Key: 'elsewhere/c.txt', Body: 'twice delivered\n' }),
    );
    const event = {
      upload: {
        rule: 'drop-wc',
        work: 's3://fanout-dev/',
        bucket: 'fanout-dev',
        key: 'elsewhere/c.txt',
        sequencer: '00AB12',
        etag: 'x',
        time: '2026-12-03T10:00:00Z',
      },
    };
    const lambda = new LambdaClient(clientConfig('LAMBDA'));
    const invoke = async () =>
      JSON.parse(
        Buffer.from(
          (
            await lambda.send(
              new InvokeCommand({ FunctionName: 'fanout-runtime', Payload: JSON.stringify(event) }),
            )
          ).Payload ?? new Uint8Array(),
        ).toString('utf8'),
      ) as { ok: boolean; skipped?: string; result?: { output: string } };
    const [first, second] = [await invoke(), await invoke()];
    lambda.destroy();
    expect(first).toMatchObject({ ok: true, result: { output: 's3://fanout-dev/counted/c/' } });
    expect(second).toEqual({ ok: true, skipped: 'already ran for s3://fanout-dev/elsewhere/c.txt' });

    const off = await mr(['off-upload', 'drop-wc']);
    expect(off.stdout).toBe('upload rule drop-wc removed\n');
    s3.destroy();
  }, 90_000);

  it('serves Kinesis over HTTP/1.1 with the same credentials', async () => {
    const kinesis = new KinesisClient({ ...clientConfig('KINESIS'), requestHandler: new NodeHttpHandler() });
    await kinesis.send(new CreateStreamCommand({ StreamName: 'dev-test', ShardCount: 1 }));
    await waitUntilStreamExists(
      { client: kinesis, maxWaitTime: 10, minDelay: 1 },
      { StreamName: 'dev-test' },
    );
    await kinesis.send(
      new PutRecordCommand({ StreamName: 'dev-test', PartitionKey: 'k', Data: Buffer.from('hello') }),
    );
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: 'dev-test' }));
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: 'dev-test',
        ShardId: shards.Shards?.[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const got = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    kinesis.destroy();
    expect(got.Records?.map((r) => Buffer.from(r.Data ?? []).toString())).toEqual(['hello']);
  });

  it('serves SQS with the same credentials', async () => {
    const sqs = new SQSClient(clientConfig('SQS'));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'dev-test' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hi' }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    sqs.destroy();
    expect(got.Messages?.map((m) => m.Body)).toEqual(['hi']);
  });

  it('runs a stream job with --backend aws: batches processed by the Lambda runtime, every record written', async () => {
    const gen = await mr([
      'stream-gen',
      '--stream',
      'dev-clicks',
      '--create',
      '--shards',
      '2',
      '--rate',
      '200',
      '--keys',
      '5',
      '--duration',
      '2',
    ]);
    const put = Number(/put (\d+) records/.exec(gen.stderr + gen.stdout)?.[1]);
    expect(put).toBeGreaterThan(100);
    await mr([
      'stream',
      'jobs/etl-jsonl.ts',
      '--stream',
      'dev-clicks',
      '--backend',
      'aws',
      '--work',
      's3://fanout-dev/stream-work/',
      '--duration',
      '5',
      '-q',
    ]);
    const s3 = new S3Client({ ...clientConfig('S3'), forcePathStyle: true });
    const seen = new Set<string>();
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: 'fanout-dev', Prefix: 'stream-work/streams/etl-jsonl/out/' }),
    );
    for (const o of listed.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: 'fanout-dev', Key: o.Key }));
      for (const line of (await body.Body?.transformToString())?.split('\n').filter(Boolean) ?? []) {
        const { key, seq } = JSON.parse(line) as { key: string; seq: number };
        seen.add(`${key}#${seq}`);
      }
    }
    s3.destroy();
    // At-least-once: every record generated is in the output (a retried batch rewrites its own object).
    expect(seen.size).toBe(put);
  });

  it('stops every emulator on SIGINT and exits 0', async () => {
    const child = dev as ChildProcess;
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const name of EXPORTS.slice(0, 4)) {
      const { port } = new URL(env[name] ?? '');
      await expect(refused(Number(port)), `${name} port ${port}`).resolves.toBe(true);
    }
  });
});

/** Whether a connection to 127.0.0.1:`port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      res(false);
    });
    socket.once('error', () => res(true));
  });
}
