/**
 * Chaos: every example job over its sample data under FANOUT_FAULTS, mixing every batch fault at
 * 3-5%, must write exactly what the same job writes without faults. The fault-free run of each job
 * is the reference, computed first in the same test; the example jobs' own oracles check that run
 * (test/integration/example-jobs.test.ts). The faults land in the worker threads (which inherit this
 * process's environment when the pool starts them) and in the driver's invoker.
 */
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.js';
import { resetFaultPlan } from '../../src/task/faults.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';

const FAULTS = [
  'map:throw:0.05',
  'map:crash:0.04',
  'map:hang:0.03',
  'reduce:throw:0.05',
  'reduce:crash:0.04',
  'store.get:error:0.04',
  'store.put:error:0.04',
  'store.put:slowdown:0.03',
  'invoke:throttle:0.05',
].join(',');

const JOBS = ['wordcount', 'wordcount-js', 'top-urls', 'revenue-by-country', 'inverted-index'];

/** Sets the fault variables for one run, and forgets the plan this process had parsed. */
function setFaults(spec: string | undefined, seed?: string): void {
  if (spec === undefined) delete process.env.FANOUT_FAULTS;
  else process.env.FANOUT_FAULTS = spec;
  if (seed === undefined) delete process.env.FANOUT_FAULTS_SEED;
  else process.env.FANOUT_FAULTS_SEED = seed;
  resetFaultPlan();
}

const saved = { faults: process.env.FANOUT_FAULTS, seed: process.env.FANOUT_FAULTS_SEED };
afterEach(() => setFaults(saved.faults, saved.seed));

describe('example jobs under injected faults', { timeout: 120_000 }, () => {
  const setup = tempDirs('chaos');
  /** Every fault the runs below reported, for the last test. */
  const seen = new Set<string>();

  async function run(job: string, dir: string) {
    const output = join(dir, 'out');
    const result = await runJob(resolve('jobs', `${job}.ts`), {
      input: [resolve('jobs/data', job)],
      output,
      workDir: join(dir, 'work'),
      // Many small tasks, so the faults hit dozens of attempts.
      splitSize: 32 * 1024,
      partitions: 6,
      concurrency: 2,
      retryBaseMs: 1,
      // A hung attempt is abandoned this soon; a healthy one here runs in well under a second.
      taskTimeoutMs: 3000,
      // Up from 3: about a fifth of attempts meet a fault, and no task may run out of attempts.
      maxAttempts: 10,
    });
    return { result, output: await readOutput(output) };
  }

  it.each(JOBS)('%s writes the same output with faults as without, under two seeds', async (job) => {
    const d = setup();
    setFaults(undefined);
    const reference = await run(job, join(d.path, 'clean'));
    expect(reference.result.counters.faults).toBeUndefined();

    // Seeds of its own per job: a decision depends on the task id, which the jobs share.
    for (const seed of [`${job}-1`, `${job}-2`]) {
      setFaults(FAULTS, seed);
      const chaotic = await run(job, join(d.path, `seed-${seed}`));

      expect(chaotic.output).toEqual(reference.output);
      const injected = Object.values(chaotic.result.counters.faults ?? {}).reduce((a, b) => a + b, 0);
      expect(injected, `faults injected under seed ${seed}`).toBeGreaterThan(0);
      for (const k of Object.keys(chaotic.result.counters.faults ?? {})) seen.add(k);
      expect(chaotic.result.counters.retries).toBeGreaterThan(0);
    }
  });

  // Runs after the jobs above (tests in a file run in order): every kind must have been met and
  // reported back to the driver, crashes and hangs through the worker's note to the pool included.
  it('injected and counted every kind of fault across the runs', () => {
    expect([...seen].sort()).toEqual(
      FAULTS.split(',')
        .map((e) => e.split(':').slice(0, 2).join(':'))
        .sort(),
    );
  });
});
