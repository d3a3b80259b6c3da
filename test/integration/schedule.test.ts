/**
 * Schedules on loopback: `mr schedule` makes a schedule in the EventBridge Scheduler emulator, whose
 * firing invokes the runtime function (serverless-offline), which runs the job's driver; output lands
 * under the path templated by the due time; a firing delivered twice runs once; a firing while the
 * last run still goes is skipped.
 */
import { resolve } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lambdaInvoker,
  type SchedulerEmulator,
  startSchedulerEmulator,
} from '../../src/dev/scheduler-emulator.js';
import { openStore } from '../../src/store/open-store.js';
import {
  type AwsTestEnv,
  jobStateIn,
  readS3Output,
  runMrAsync,
  startAwsEmulators,
  uploadTexts,
  waitForJobState,
} from '../helpers/aws-emulators.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const ROLE = 'arn:aws:iam::000000000000:role/fanout-scheduler';

describe('mr schedule', () => {
  let aws: AwsTestEnv;
  let scheduler: SchedulerEmulator;
  let env: Record<string, string>;
  const setup = tempDirs('schedule');
  beforeAll(async () => {
    aws = await startAwsEmulators({ functions: [{ name: 'fanout-runtime', timeoutSeconds: 30 }] });
    scheduler = await startSchedulerEmulator({
      invoke: lambdaInvoker(aws.env.AWS_ENDPOINT_URL_LAMBDA as string),
    });
    env = { ...aws.env, AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint };
    Object.assign(process.env, env);
  }, 60_000);
  afterAll(async () => {
    await scheduler?.stop();
    await aws?.stop();
  });

  const mr = (args: string[]) => runMrAsync(args, env);

  const work = () => openStore(`s3://${aws.bucket}/`);

  const status = (jobId: string) => jobStateIn(`s3://${aws.bucket}/`, jobId);
  const until = (jobId: string, done: (state: string | undefined) => boolean) =>
    waitForJobState(`s3://${aws.bucket}/`, jobId, done, 60_000);

  /** Invokes the function as the schedule would for `time`, and waits for its reply. */
  async function fireDirectly(name: string, time: string): Promise<unknown> {
    const client = new SchedulerClient({});
    const s = await client.send(new GetScheduleCommand({ Name: name, GroupName: 'default' }));
    client.destroy();
    const input = (s.Target?.Input ?? '').replace('<aws.scheduler.scheduled-time>', time);
    const lambda = new LambdaClient({});
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'fanout-runtime', Payload: Buffer.from(input) }),
    );
    lambda.destroy();
    return JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'));
  }

  const upload = (prefix: string, texts: string[]) => uploadTexts(aws.bucket, prefix, texts);

  it('fires the job into the path of its due time, once for a firing delivered twice', async () => {
    const texts = [wordText(200, 40, 5), wordText(100, 40, 6)];
    await upload('in/nightly/', texts);
    const made = await mr([
      'schedule',
      'jobs/wordcount.ts',
      '--cron',
      '0 3 * * ? *',
      '--timezone',
      'Europe/Paris',
      '--name',
      'nightly-wc',
      '--input',
      `s3://${aws.bucket}/in/nightly/`,
      '--output',
      `s3://${aws.bucket}/wc/{date}/`,
      '--role-arn',
      ROLE,
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toBe(
      `schedule nightly-wc: cron(0 3 * * ? *) Europe/Paris, ${resolve('jobs/wordcount.ts')} -> s3://${aws.bucket}/wc/{date}/ (runs as ${ROLE})\n`,
    );
    const listed = await mr(['schedules', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([
      {
        name: 'nightly-wc',
        expression: 'cron(0 3 * * ? *)',
        timezone: 'Europe/Paris',
        state: 'ENABLED',
        job: resolve('jobs/wordcount.ts'),
        output: `s3://${aws.bucket}/wc/{date}/`,
      },
    ]);

    // Due at 03:00 in Paris on 4 December: 02:00 UTC.
    await scheduler.fireNow('nightly-wc', 'default', new Date('2026-12-04T02:00:00Z'));
    const jobId = 'nightly-wc-20261204020000';
    expect(await until(jobId, (s) => s !== undefined && s !== 'running')).toBe('succeeded');
    expect(await readS3Output(aws.bucket, 'wc/2026-12-04/', setup())).toEqual(countWords(...texts));

    // The same firing again (Scheduler retries a delivery it thinks failed): nothing runs.
    expect(await fireDirectly('nightly-wc', '2026-12-04T02:00:00Z')).toEqual({
      ok: true,
      skipped: 'already fired for 2026-12-04T02:00:00Z',
    });
    const spec = JSON.parse(Buffer.from(await work().get(`jobs/${jobId}/job.json`)).toString('utf8'));
    expect(spec.runs).toBe(1);

    const gone = await mr(['unschedule', 'nightly-wc']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toBe('schedule nightly-wc deleted\n');
    expect((await mr(['schedules'])).stdout).toBe('no Fanout schedules\n');
    const again = await mr(['unschedule', 'nightly-wc']);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe('mr: no schedule named nightly-wc');
  }, 120_000);

  it('skips a firing while the run before it still goes', async () => {
    await upload(
      'in/slow/',
      Array.from({ length: 6 }, (_, i) => wordText(200, 40, 20 + i)),
    );
    const made = await mr([
      'schedule',
      'test/fixtures/jobs/slow-wordcount.ts',
      '--rate',
      '1 hour',
      '--name',
      'hourly-slow',
      '--input',
      `s3://${aws.bucket}/in/slow/`,
      '--output',
      `s3://${aws.bucket}/slow/{date}/{time}/`,
      '--role-arn',
      ROLE,
      '--concurrency',
      '1',
      '--split-size',
      '16KiB',
    ]);
    expect(made.code, made.stderr).toBe(0);
    await scheduler.fireNow('hourly-slow', 'default', new Date('2026-12-04T05:00:00Z'));
    const first = 'hourly-slow-20261204050000';
    await until(first, (s) => s === 'running');
    expect(await fireDirectly('hourly-slow', '2026-12-04T06:00:00Z')).toEqual({
      ok: true,
      skipped: `${first} is still running`,
    });
    expect(await until(first, (s) => s !== 'running')).toBe('succeeded');
    expect(await status('hourly-slow-20261204060000')).toBeUndefined();
    expect((await work().head('slow/2026-12-04/05-00-00/_SUCCESS')) !== undefined).toBe(true);
    await mr(['unschedule', 'hourly-slow']);
  }, 120_000);

  it.each([
    [
      ['--input', 's3://b/i/', '--output', 's3://b/o/'],
      /mr schedule needs one of --cron '0 3 \* \* \? \*' or --rate '1 hour'/,
    ],
    [
      ['--cron', '0 3 * * ? *', '--rate', '1 hour', '--input', 's3://b/i/', '--output', 's3://b/o/'],
      /needs one of --cron/,
    ],
    [['--cron', '0 3 * * * *', '--input', 's3://b/i/', '--output', 's3://b/o/'], /cron\(0 3 \* \* \* \*\)/],
    [['--rate', '1 hours', '--input', 's3://b/i/', '--output', 's3://b/o/'], /rate\(1 hours\)/],
    [
      ['--rate', '1 day', '--input', 's3://b/i/', '--output', 's3://b/o/'],
      /each run needs its own output: put \{date\}/,
    ],
    [
      [
        '--cron',
        '0 3 * * ? *',
        '--timezone',
        'Mars/Olympus',
        '--input',
        's3://b/i/',
        '--output',
        's3://b/o/',
      ],
      /Mars\/Olympus/,
    ],
    [
      [
        '--rate',
        '1 hour',
        '--name',
        'bad name',
        '--input',
        's3://b/i/',
        '--output',
        's3://b/o/',
        '--role-arn',
        ROLE,
      ],
      /--name must be/,
    ],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const r = await mr(['schedule', 'jobs/wordcount.ts', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
