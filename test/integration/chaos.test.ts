/**
 * Chaos: every example job over its sample data under FANOUT_FAULTS, mixing every batch fault at
 * 3-5%, must write exactly its oracle's output (test/helpers/example-oracles.ts: computed in plain JS
 * from the records the sample was generated from), reading every input record once, for two seeds.
 * The faults land in the worker threads (which inherit this process's environment when the pool
 * starts them) and in the driver's invoker. test/integration/chaos-aws.test.ts runs the same on the
 * AWS backend against the emulators.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHAOS_FAULTS, EXAMPLE_JOBS, faultKinds, runExampleForChaos, setFaults } from '../helpers/chaos.js';
import { sampleOracle } from '../helpers/example-oracles.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';

const saved = { faults: process.env.FANOUT_FAULTS, seed: process.env.FANOUT_FAULTS_SEED };
afterEach(() => setFaults(saved.faults, saved.seed));

describe('example jobs under injected faults', { timeout: 120_000 }, () => {
  const setup = tempDirs('chaos');
  /** Every fault the runs below reported, for the last test. */
  const seen = new Set<string>();

  it.each(EXAMPLE_JOBS)('%s writes its oracle output under faults, for two seeds', async (job) => {
    const d = setup();
    const oracle = sampleOracle(job);
    // Seeds of its own per job: a decision depends on the task id, which the jobs share.
    for (const seed of [`${job}-1`, `${job}-2`]) {
      setFaults(CHAOS_FAULTS, seed);
      const { result, output } = await runExampleForChaos(job, join(d.path, `seed-${seed}`));

      expect(await readOutput(output, oracle.read), `output under seed ${seed}`).toEqual(oracle.output);
      expect(result.counters.inputRecords).toBe(oracle.inputRecords);
      const injected = Object.values(result.counters.faults ?? {}).reduce((a, b) => a + b, 0);
      expect(injected, `faults injected under seed ${seed}`).toBeGreaterThan(0);
      for (const k of Object.keys(result.counters.faults ?? {})) seen.add(k);
      expect(result.counters.retries).toBeGreaterThan(0);
    }
  });

  // Runs after the jobs above (tests in a file run in order): every kind must have been met and
  // reported back to the driver, crashes and hangs through the worker's note to the pool included.
  it('injected and counted every kind of fault across the runs', () => {
    expect([...seen].sort()).toEqual(faultKinds(CHAOS_FAULTS));
  });
});
