/**
 * `mr submit`: the driver runs as an invocation of the runtime function (serverless-offline on
 * loopback), invokes the job's tasks on that same function, and hands over to a fresh invocation
 * near its time limit; the job's state is in S3 (s3rver), where `mr status` reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import {
  type AwsTestEnv,
  readS3Output,
  runMrAsync,
  startAwsEmulators,
  uploadTexts,
  waitForJobState,
} from '../helpers/aws-emulators.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

describe('mr submit', () => {
  let aws: AwsTestEnv;
  const setup = tempDirs('submit');
  beforeAll(async () => {
    // A 12 s function: a driver given --reserve 9s pauses 5 s in (the least it runs) and hands over.
    aws = await startAwsEmulators({ functions: [{ name: 'fanout-runtime', timeoutSeconds: 12 }] });
    // This process reads and writes the bucket too.
    Object.assign(process.env, aws.env);
  }, 60_000);
  afterAll(() => aws?.stop());

  const mr = (args: string[]) => runMrAsync(args, aws.env);

  /** The job's state once it is no longer running, and its spec, from the work store. */
  async function finished(jobId: string): Promise<{ status: { state: string }; spec: { runs: number } }> {
    const work = `s3://${aws.bucket}/`;
    const state = await waitForJobState(work, jobId, (s) => s !== undefined && s !== 'running', 90_000);
    const spec = JSON.parse(
      Buffer.from(await openStore(work).get(`jobs/${jobId}/job.json`)).toString('utf8'),
    );
    return { status: { state: state as string }, spec };
  }

  const upload = (prefix: string, texts: string[]) => uploadTexts(aws.bucket, prefix, texts);

  it('runs the driver in the function: the job id at once, the exact output in S3, its status for mr status', async () => {
    const texts = [wordText(300, 50, 61), wordText(200, 50, 62)];
    await upload('in/wc/', texts);
    const r = await mr([
      'submit',
      'jobs/wordcount.ts',
      '--input',
      `s3://${aws.bucket}/in/wc/`,
      '--output',
      `s3://${aws.bucket}/out/wc/`,
    ]);
    expect(r.stderr).toMatch(/^job wordcount-\d{14}-[0-9a-f]{6}\n$/);
    expect(r.code).toBe(0);
    const jobId = r.stderr.trim().slice(4);
    expect(r.stdout).toBe(
      `submitted to fanout-runtime; follow it with: mr status ${jobId} --work s3://${aws.bucket}/\n`,
    );
    const { status } = await finished(jobId);
    expect(status.state).toBe('succeeded');
    expect(await readS3Output(aws.bucket, 'out/wc/', setup())).toEqual(countWords(...texts));
    const shown = await mr(['status', jobId, '--work', `s3://${aws.bucket}/`]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('succeeded');
    const report = await mr(['report', jobId, '--work', `s3://${aws.bucket}/`]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout.trim()).toBe(`s3://${aws.bucket}/out/wc/_report/index.html`);
  }, 120_000);

  it('hands over to a fresh driver near the time limit, which resumes the job from the store', async () => {
    // 16 map tasks of about 0.8 s (a 4 ms wait a line) two at a time: longer than one driver's 5 s.
    const texts = Array.from({ length: 16 }, (_, i) => wordText(200, 40, 70 + i));
    await upload('in/slow/', texts);
    const r = await mr([
      'submit',
      'test/fixtures/jobs/slow-wordcount.ts',
      '--input',
      `s3://${aws.bucket}/in/slow/`,
      '--output',
      `s3://${aws.bucket}/out/slow/`,
      '--split-size',
      '16KiB',
      '--concurrency',
      '2',
      '--reserve',
      '9s',
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const jobId = r.stderr.trim().slice(4);
    const { status, spec } = await finished(jobId);
    expect(status.state).toBe('succeeded');
    // The first driver paused and the next resumed: two runs of the job.
    expect(spec.runs).toBeGreaterThanOrEqual(2);
    expect(await readS3Output(aws.bucket, 'out/slow/', setup())).toEqual(countWords(...texts));
  }, 150_000);

  it('stops a submitted job with mr cancel, its driver in the function seeing the marker in the store', async () => {
    const texts = Array.from({ length: 16 }, (_, i) => wordText(200, 40, 90 + i));
    await upload('in/cancel/', texts);
    const work = `s3://${aws.bucket}/`;
    const r = await mr([
      'submit',
      'test/fixtures/jobs/slow-wordcount.ts',
      '--input',
      `s3://${aws.bucket}/in/cancel/`,
      '--output',
      `s3://${aws.bucket}/out/cancel/`,
      '--split-size',
      '16KiB',
      '--concurrency',
      '1',
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const jobId = r.stderr.trim().slice(4);
    // Cancelled once it is under way: its status is in the store.
    const store = openStore(work);
    while ((await store.head(`jobs/${jobId}/status.json`)) === undefined)
      await new Promise((t) => setTimeout(t, 100));
    const cancelled = await mr(['cancel', jobId, '--work', work]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const { status } = await finished(jobId);
    expect(status.state).toBe('cancelled');
    expect(await store.head('out/cancel/_SUCCESS')).toBeUndefined();
  }, 120_000);

  it.each([
    [
      ['--input', 'jobs/data/wordcount', '--output', 's3://b/o/'],
      /mr submit needs s3:\/\/ locations for input and output, got jobs\/data\/wordcount/,
    ],
    [
      ['--input', 's3://b/i/', '--output', 's3://b/o/', '--backend', 'local'],
      /mr submit runs the driver on aws: --backend local is not for it/,
    ],
    [['--output', 's3://b/o/'], /mr submit needs --input s3:\/\/\.\.\./],
    [
      ['--input', 's3://b/i/', '--output', 's3://b/o/', '--reserve', 'soon'],
      /invalid duration "soon" for --reserve/,
    ],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const r = await mr(['submit', 'jobs/wordcount.ts', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
