import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProgressEvent, type RunOptions, runJob } from '../../src/index.js';
import { openStore } from '../../src/store/open-store.js';
import { type AwsTestEnv, readS3Output as readS3, uploadSamples } from './aws-emulators.js';
import { readOutput } from './read-output.js';
import { tempDir } from './temp.js';

export type { AwsTestEnv, Throttle } from './aws-emulators.js';

const JOBS = ['wordcount', 'top-urls', 'revenue-by-country', 'inverted-index'] as const;

/**
 * The AWS backend's integration scenarios, the same against every environment: each example job
 * gives the local backend's output, and throttled Lambda or S3 still give exact output.
 */
export function awsBackendSuite(name: string, start: () => Promise<AwsTestEnv>): void {
  let aws: AwsTestEnv | undefined;
  const local = tempDir('aws-backend');
  const env = (): AwsTestEnv => {
    if (!aws) throw new Error('environment not started');
    return aws;
  };

  beforeAll(async () => {
    aws = await start();
    // Each test file runs in its own process: the driver's SDK clients read these, as in a shell.
    Object.assign(process.env, aws.env);
    await uploadSamples(aws.bucket, JOBS);
  }, 180_000);

  afterAll(async () => {
    await aws?.stop();
    local.cleanup();
  });

  /** A job's S3 output copied here and read by readOutput (which checks _SUCCESS and unique keys). */
  const readS3Output = (prefix: string): Promise<Map<string, unknown>> => readS3(env().bucket, prefix, local);

  const awsRun = (job: string, out: string, extra: Partial<RunOptions> = {}) =>
    runJob(resolve('jobs', `${job}.ts`), {
      backend: 'aws',
      functionName: env().functionName,
      input: [`s3://${env().bucket}/in/${job}/`],
      output: `s3://${env().bucket}/${out}/`,
      workDir: `s3://${env().bucket}/`,
      concurrency: 4,
      splitSize: 64 * 1024,
      retryBaseMs: 10,
      ...extra,
    });

  describe(name, () => {
    it.each(JOBS)('%s gives the same output as the local backend', async (job) => {
      const viaAws = await awsRun(job, `out/${job}`);
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
      });
      // The function's configuration was read: the run's cost is estimated from its size.
      expect(viaAws.cost?.invocations).toBeGreaterThanOrEqual(viaAws.counters.tasks);
      expect(viaAws.cost?.usd).toBeGreaterThan(0);
      // The bundle was shipped by hash; intermediate data is gone after success.
      const keys: string[] = [];
      for await (const o of openStore(`s3://${env().bucket}/`).list('')) keys.push(o.key);
      expect(keys.some((k) => k.startsWith('bundles/'))).toBe(true);
      expect(keys.filter((k) => k.startsWith(`jobs/${viaAws.jobId}/data/`))).toEqual([]);
    });

    it("runs the word count written out in JavaScript on Lambda with the built-in job's output", async () => {
      const input = [`s3://${env().bucket}/in/wordcount/`];
      await awsRun('wordcount-js', 'out/wordcount-js', { input });
      expect(await readS3Output('out/wordcount-js/')).toEqual(await readS3Output('out/wordcount/'));
    });

    it('still counts exactly when Lambda throttles a fraction of invocations, and adapts', async (t) => {
      const lambda = env().lambda;
      if (!lambda) return t.skip();
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
      expect(events.some((e) => e.type === 'concurrency' && e.reason === 'throttled')).toBe(true);
      expect(await readS3Output('out/throttled-lambda/')).toEqual(await readS3Output('out/wordcount/'));
    });

    it('still counts exactly when S3 answers 503 SlowDown to a fraction of requests', async (t) => {
      const s3 = env().s3;
      if (!s3) return t.skip();
      const before = s3.throttled();
      s3.throttleEvery(8);
      try {
        await awsRun('wordcount', 'out/slowdown');
      } finally {
        s3.throttleEvery(0);
      }
      expect(s3.throttled() - before).toBeGreaterThan(3);
      expect(await readS3Output('out/slowdown/')).toEqual(await readS3Output('out/wordcount/'));
    });
  });
}
