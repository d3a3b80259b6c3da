/**
 * Resume proofs on the aws backend against the emulators: `mr run --backend aws` (job state and
 * intermediate data in S3, tasks on the emulated Lambda function) is SIGKILLed at a moment drawn from
 * a seed, once in the map phase and once in the reduce phase, and `mr resume <id>` with the s3://
 * work store must reach the oracle's output, keep every committed attempt as it was, and run each
 * uncommitted task once and no committed one. Attempts the killed driver had in flight go on in
 * the function; what they write is theirs alone (attempt-scoped), and never committed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { type AwsTestEnv, readS3Output, startAwsEmulators } from '../helpers/aws-emulators.js';
import { expectResumedOnlyUncommitted, type Phase, resume, runAndKill } from '../helpers/kill-driver.js';
import { tempDir } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const PARTITIONS = 6;
const KILLS: { seed: number; phase: Phase }[] = [
  { seed: 4, phase: 'map' },
  { seed: 5, phase: 'reduce' },
];
const texts = [1, 2, 3].map((i) => wordText(200, 300, 40 + i));

describe('mr resume on the aws backend after the driver is killed', { timeout: 120_000 }, () => {
  let aws: AwsTestEnv | undefined;
  const local = tempDir('resume-aws');

  beforeAll(async () => {
    aws = await startAwsEmulators({ bucket: 'fanout-resume' });
    // This process reads the S3 work store; the drivers it starts get the same variables.
    Object.assign(process.env, aws.env);
    const input = openStore(`s3://${aws.bucket}/in/`);
    for (const [i, t] of texts.entries()) await input.put(`${i}.txt`, Buffer.from(t));
  }, 120_000);

  afterAll(async () => {
    await aws?.stop();
    local.cleanup();
  });

  it.each(KILLS)(
    'seed $seed, in the $phase phase: reaches the oracle, re-running no committed task',
    async (at) => {
      const { bucket, env } = aws as AwsTestEnv;
      const work = `s3://${bucket}/`;
      const out = `out/seed-${at.seed}/`;
      const store = openStore(work);

      const killed = await runAndKill({
        args: [
          'test/fixtures/jobs/slow-wordcount.ts',
          ...['--backend', 'aws', '--function', 'fanout-runtime'],
          ...['-i', `s3://${bucket}/in/`, '-o', `s3://${bucket}/${out}`, '--work', work],
          ...['--split-size', '1KiB', '-p', String(PARTITIONS), '-c', '2'],
        ],
        env,
        store,
        partitions: PARTITIONS,
        at,
      });
      await resume(killed.jobId, work, env);

      expect(await readS3Output(bucket, out, local)).toEqual(countWords(...texts));
      await expectResumedOnlyUncommitted(store, killed);
    },
  );
});
