import { join, resolve } from 'node:path';
import { type JobResult, runJob } from '../../src/index.js';
import { resetFaultPlan } from '../../src/task/faults.js';

/** Every batch fault at 3-5% (merges, fewer, at 5-10%): what the chaos suite and `npm run chaos` run the example jobs under. */
export const CHAOS_FAULTS = [
  'map:throw:0.05',
  'map:crash:0.04',
  'map:hang:0.03',
  'merge:throw:0.1',
  'merge:crash:0.04',
  'reduce:throw:0.05',
  'reduce:crash:0.04',
  'store.get:error:0.04',
  'store.put:error:0.04',
  'store.put:slowdown:0.03',
  'invoke:throttle:0.05',
].join(',');

/** The `site:kind`s of a FANOUT_FAULTS spec, sorted: `map:throw`, ... */
export function faultKinds(spec: string): string[] {
  return spec
    .split(',')
    .map((e) => e.split(':').slice(0, 2).join(':'))
    .sort();
}

/** The example jobs, each with its sample data in jobs/data/<name>/. */
export const EXAMPLE_JOBS = [
  'wordcount',
  'wordcount-js',
  'top-urls',
  'revenue-by-country',
  'inverted-index',
  'clean-logs',
  'join-orders',
];

/**
 * Sets the fault variables for the next run, and forgets the plan this process had parsed. Worker
 * threads inherit the variables when the pool starts them.
 */
export function setFaults(spec: string | undefined, seed?: string): void {
  if (spec === undefined) delete process.env.FANOUT_FAULTS;
  else process.env.FANOUT_FAULTS = spec;
  if (seed === undefined) delete process.env.FANOUT_FAULTS_SEED;
  else process.env.FANOUT_FAULTS_SEED = seed;
  resetFaultPlan();
}

/** Runs an example job over its sample data into `dir`/out, as the chaos runs do; returns its output folder too. */
export async function runExampleForChaos(
  job: string,
  dir: string,
): Promise<{ result: JobResult; output: string }> {
  const output = join(dir, 'out');
  const result = await runJob(resolve('jobs', `${job}.ts`), {
    input: [resolve('jobs/data', job)],
    output,
    workDir: join(dir, 'work'),
    // Many small tasks, so the faults hit dozens of attempts.
    splitSize: 32 * 1024,
    partitions: 6,
    // Map outputs merged two at a time: the combining tier meets the faults too.
    mergeFanIn: 2,
    concurrency: 2,
    retryBaseMs: 1,
    // A hung attempt is abandoned this soon; a healthy one here runs in well under a second.
    taskTimeoutMs: 3000,
    // Up from 3: about a fifth of attempts meet a fault, and no task may run out of attempts.
    maxAttempts: 10,
  });
  return { result, output };
}
