/**
 * Chaos: every example job over its sample data under FANOUT_FAULTS, mixing every batch fault at
 * 3-5%, must write exactly what the same job writes without faults. The fault-free run of each job
 * is the reference, computed first in the same test; the example jobs' own oracles check that run
 * (test/integration/example-jobs.test.ts). The faults land in the worker threads (which inherit this
 * process's environment when the pool starts them) and in the driver's invoker.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHAOS_FAULTS, EXAMPLE_JOBS, runExampleForChaos, setFaults } from '../helpers/chaos.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';

const saved = { faults: process.env.FANOUT_FAULTS, seed: process.env.FANOUT_FAULTS_SEED };
afterEach(() => setFaults(saved.faults, saved.seed));

describe('example jobs under injected faults', { timeout: 120_000 }, () => {
  const setup = tempDirs('chaos');
  /** Every fault the runs below reported, for the last test. */
  const seen = new Set<string>();

  async function run(job: string, dir: string) {
    const { result, output } = await runExampleForChaos(job, dir);
    return { result, output: await readOutput(output) };
  }

  it.each(EXAMPLE_JOBS)('%s writes the same output with faults as without, under two seeds', async (job) => {
    const d = setup();
    setFaults(undefined);
    const reference = await run(job, join(d.path, 'clean'));
    expect(reference.result.counters.faults).toBeUndefined();

    // Seeds of its own per job: a decision depends on the task id, which the jobs share.
    for (const seed of [`${job}-1`, `${job}-2`]) {
      setFaults(CHAOS_FAULTS, seed);
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
      CHAOS_FAULTS.split(',')
        .map((e) => e.split(':').slice(0, 2).join(':'))
        .sort(),
    );
  });
});
