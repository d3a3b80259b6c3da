/**
 * Chaos on the AWS backend against the emulators: example jobs over their sample data in S3 under
 * FANOUT_FAULTS mixing every batch fault at 3-5%, for two seeds, must write exactly their oracles'
 * output (test/helpers/example-oracles.ts), reading every input record once. The task-side faults
 * (map and reduce throw, crash and hang, store errors and SlowDown) are injected inside the Lambda
 * functions, which get FANOUT_FAULTS in their configuration, one emulated function per seed;
 * `invoke:throttle` in the driver, the test's process. A crash or hang on Lambda leaves no reply, so
 * the summary cannot count it: the suite replays the seed's plan to find the attempts it crashed or
 * hung, and checks that each failed as a crash or a timeout. Used by chaos-aws-*.test.ts, which
 * share the five jobs between them to keep each file short.
 */
import { resolve } from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaClient } from '../../src/backends/lambda-invoker.js';
import { type ProgressEvent, runJob } from '../../src/index.js';
import { FaultPlan, parseFaultSpec } from '../../src/task/faults.js';
import { type AwsTestEnv, readS3Output, startAwsEmulators, uploadSamples } from './aws-emulators.js';
import { CHAOS_FAULTS, faultKinds, setFaults } from './chaos.js';
import { sampleOracle } from './example-oracles.js';
import { tempDir } from './temp.js';

/**
 * A decision is a pure function of the seed and the attempt, so these two were picked, among aws-1
 * to aws-12, for the first attempts of the tasks every example job has (12 maps, 6 reducers) to
 * meet between them a map crash, a map hang and a reduce crash; the larger jobs meet more.
 */
const SEEDS = ['aws-8', 'aws-4'];
const CONCURRENCY = 4;
const functionFor = (seed: string) => `fanout-chaos-${seed}`;
/** The sample folder a job reads: wordcount-js reads the word count's. */
const sampleOf = (job: string) => (job === 'wordcount-js' ? 'wordcount' : job);
/** Kinds that end or stall the function before it can reply: not counted on Lambda. */
const UNREPLIED = ['map:crash', 'map:hang', 'merge:crash', 'reduce:crash', 'reduce:hang'];

/** The chaos suite on the AWS backend for `jobs`, each under both seeds, against fresh emulators. */
export function chaosAwsSuite(jobs: readonly string[]): void {
  const saved = { faults: process.env.FANOUT_FAULTS, seed: process.env.FANOUT_FAULTS_SEED };
  afterEach(() => setFaults(saved.faults, saved.seed));

  describe(`${jobs.join(', ')} on the aws backend under injected faults`, { timeout: 180_000 }, () => {
    let aws: AwsTestEnv | undefined;
    const local = tempDir('chaos-aws');
    /** Every fault the runs reported, by kind. */
    const counted = new Set<string>();
    /** Every crash or hang the plans decided for an attempt that ran, by kind. */
    const replayed = new Set<string>();

    beforeAll(async () => {
      aws = await startAwsEmulators({
        bucket: 'fanout-chaos',
        functions: SEEDS.map((seed) => ({
          name: functionFor(seed),
          // A hung or crashed invocation holds its emulated environment this long: kept short.
          timeoutSeconds: 8,
          environment: { FANOUT_FAULTS: CHAOS_FAULTS, FANOUT_FAULTS_SEED: seed },
        })),
      });
      // The driver's SDK clients read these, as in a shell.
      Object.assign(process.env, aws.env);
      await uploadSamples(aws.bucket, [...new Set(jobs.map(sampleOf))]);
      // Each function's environments started before the runs (an event that is no task only loads
      // the handler), so no first attempt times out on a cold start.
      const client = createLambdaClient(CONCURRENCY);
      try {
        await Promise.all(
          SEEDS.flatMap((seed) =>
            Array.from({ length: CONCURRENCY }, () =>
              client.send(new InvokeCommand({ FunctionName: functionFor(seed), Payload: '{}' })),
            ),
          ),
        );
      } finally {
        client.destroy();
      }
    }, 180_000);

    afterAll(async () => {
      await aws?.stop();
      local.cleanup();
    });

    it.each(jobs)('%s writes its oracle output under faults on Lambda, for two seeds', async (job) => {
      const env = aws as AwsTestEnv;
      const oracle = sampleOracle(job);
      for (const seed of SEEDS) {
        // The driver decides the invoke faults under the same spec and seed as the function.
        setFaults(CHAOS_FAULTS, seed);
        const events: ProgressEvent[] = [];
        const out = `out/${job}-${seed}/`;
        const result = await runJob(resolve('jobs', `${job}.ts`), {
          backend: 'aws',
          functionName: functionFor(seed),
          input: [`s3://${env.bucket}/in/${sampleOf(job)}/`],
          output: `s3://${env.bucket}/${out}`,
          workDir: `s3://${env.bucket}/`,
          // Many small tasks, so the faults hit dozens of attempts.
          splitSize: 32 * 1024,
          partitions: 6,
          // Map outputs merged two at a time: the combining tier meets the faults on Lambda too.
          mergeFanIn: 2,
          concurrency: CONCURRENCY,
          retryBaseMs: 1,
          // Below the function's 8 s, as on Lambda, so the driver abandons a hung attempt first; well
          // above a healthy attempt on a busy 2-core machine, or timed-out attempts pile up.
          taskTimeoutMs: 6000,
          maxAttempts: 10,
          onProgress: (e) => events.push(e),
        });

        expect(await readS3Output(env.bucket, out, local, oracle.read), `output under seed ${seed}`).toEqual(
          oracle.output,
        );
        expect(result.counters.inputRecords).toBe(oracle.inputRecords);
        expect(result.counters.retries).toBeGreaterThan(0);
        const faults = result.counters.faults ?? {};
        expect(Object.keys(faults).length, `faults counted under seed ${seed}`).toBeGreaterThan(0);
        for (const k of Object.keys(faults)) counted.add(k);

        // The function's own decision for each invocation that reached it, replayed from the seed: the
        // first draw of its site for the attempt (`~n` after n throttles), whatever the function ran before.
        const plan = new FaultPlan(parseFaultSpec(CHAOS_FAULTS), seed);
        const throttles = new Map<string, number>();
        for (const e of events) {
          if (e.type !== 'task-done' && e.type !== 'task-retry') continue;
          const id = `${e.taskId}#${e.attempt}`;
          const n = throttles.get(id) ?? 0;
          const outcome = e.type === 'task-done' ? 'committed' : e.error;
          // A throttled attempt goes again under its number; an invoke throttle never reached the function.
          if (/injected fault (invoke:throttle|store\.put:slowdown)/.test(outcome)) throttles.set(id, n + 1);
          if (outcome.includes('invoke:throttle')) continue;
          const scope = n > 0 ? `${id}~${n}` : id;
          const kind = plan.decide(e.phase, scope);
          if (kind === undefined) continue;
          // Each of these fails its attempt before the task runs, and the task is run again.
          const what = `${scope} met ${e.phase}:${kind} under seed ${seed}`;
          expect(outcome, what).not.toBe('committed');
          if (kind === 'throw') expect(outcome, what).toContain(`injected fault ${e.phase}:throw`);
          else {
            expect(outcome, what).toMatch(/timed out|failed running/);
            replayed.add(`${e.phase}:${kind}`);
          }
        }
      }
    });

    // Runs after the jobs above (tests in a file run in order).
    it('counted every fault kind that replies, and met every crash and hang kind', () => {
      const all = faultKinds(CHAOS_FAULTS);
      expect([...counted].sort()).toEqual(all.filter((k) => !UNREPLIED.includes(k)));
      expect([...replayed].sort()).toEqual(all.filter((k) => UNREPLIED.includes(k)));
    });
  });
}
