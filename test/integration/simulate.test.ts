import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planJob } from '../../src/plan/plan-job.js';
import { runMr as mr } from '../helpers/run-mr.js';
import { tempDir } from '../helpers/temp.js';

const d = tempDir('simulate');
afterAll(() => d.cleanup());
const job = resolve('jobs/wordcount.ts');

/** A folder of `files` text files of `bytes` bytes each. */
function inputOf(name: string, files: number, bytes: number): string {
  const dir = join(d.path, name, 'in');
  mkdirSync(dir, { recursive: true });
  const line = `${'word '.repeat(19)}abcd\n`;
  for (let f = 0; f < files; f++)
    writeFileSync(join(dir, `f${f}.txt`), line.repeat(Math.ceil(bytes / line.length)));
  return dir;
}

/** The model with no spread, stragglers or failures: every figure below can be worked out by hand. */
const exact = ['taskJitter=0', 'stragglerRate=0', 'failureRate=0'];

describe('mr plan --simulate', () => {
  it('runs the driver on a virtual clock: one map task takes what the model says it takes', async () => {
    const input = inputOf('one', 1, 1000);
    const settings = [
      ...exact,
      'readMBps=10',
      'mapMBps=5',
      'writeMBps=10',
      'shuffleRatio=1',
      'coldStartMs=500',
    ];
    const plan = await planJob(job, {
      input: [input],
      backend: 'aws',
      concurrency: 1,
      partitions: 1,
      settings,
      // 50 MB in one file, one task of 50 MB (a split of 64 MB).
      scale: { bytes: 50e6, files: 1 },
      splitSize: 64e6,
      simulate: { reportDir: join(d.path, 'one', 'report') },
    });
    const sim = plan.simulation;
    if (!sim) throw new Error('no simulation');
    expect(sim.mapTasks).toBe(1);
    expect(sim.reduceTasks).toBe(1);
    const map = sim.phases.find((p) => p.phase === 'map');
    // By hand: the invocation (20 ms), the cold start (500 ms), a GET (20 ms), mapping 50 MB at
    // 5 MB/s (10 s, reading at 10 MB/s overlaps it), a PUT (20 ms) and writing 50 MB at 10 MB/s (5 s).
    const byHand = 0.02 + 0.5 + 0.02 + 10 + 0.02 + 5;
    expect(map?.seconds).toBeGreaterThanOrEqual(byHand);
    // The rest: the driver's own store calls (commit records, the manifest) at 20 ms each.
    expect(map?.seconds).toBeLessThan(byHand + 0.5);
    expect(sim.counts.coldStarts).toBe(1);
    expect(sim.counts.peakConcurrency).toBe(1);
    // The simulated run's report, as a real run's.
    expect(sim.report).toBe(join(d.path, 'one', 'report', 'index.html'));
    const report = JSON.parse(readFileSync(join(d.path, 'one', 'report', 'report.json'), 'utf8'));
    expect(report.backend).toBe('sim');
    expect(report.state).toBe('succeeded');
    expect(sim.cost.usd).toBeGreaterThan(0);
  });

  it('gives the same run for the same seed, and another for another seed', async () => {
    const input = inputOf('seed', 2, 100_000);
    const run = (seed: number) =>
      planJob(job, {
        input: [input],
        backend: 'aws',
        concurrency: 50,
        settings: ['stragglerRate=0.2'],
        scale: { bytes: 10e9, files: 100 },
        simulate: { seed, reportDir: join(d.path, 'seed', String(seed)) },
      });
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    expect(a.simulation?.seconds).toBe(b.simulation?.seconds);
    expect(a.simulation?.counts).toEqual(b.simulation?.counts);
    expect(c.simulation?.seconds).not.toBe(a.simulation?.seconds);
    // Stragglers of a 4x slowdown past 10 s get speculative copies, as on aws.
    expect(a.simulation?.counts.stragglers).toBeGreaterThan(0);
    expect(a.simulation?.speculated).toBeGreaterThan(0);
  });

  it('refuses invocations past the account concurrency with 429s, backs off, and still runs every task once', async () => {
    const input = inputOf('429', 1, 100_000);
    const plan = await planJob(job, {
      input: [input],
      backend: 'aws',
      concurrency: 40,
      partitions: 4,
      settings: [...exact, 'accountConcurrency=10'],
      scale: { bytes: 2e9, files: 40 },
      splitSize: 50e6,
      simulate: { reportDir: join(d.path, '429', 'report') },
    });
    const sim = plan.simulation;
    expect(sim?.counts.throttles).toBeGreaterThan(0);
    expect(sim?.counts.peakConcurrency).toBe(10);
    expect(sim?.mapTasks).toBe(40);
    // Every task committed once: the report's figures count each map task's input once.
    const report = JSON.parse(readFileSync(join(d.path, '429', 'report', 'report.json'), 'utf8'));
    expect(report.stages[0].map.bytesIn).toBe(2e9);
    expect(report.stages[0].map.tasks).toBe(40);
    expect(report.throttled).toBeGreaterThan(0);
  });

  it("answers 503 SlowDown past a prefix's rate; the tasks retry and the run completes", async () => {
    const input = inputOf('503', 1, 100_000);
    const plan = await planJob(job, {
      input: [input],
      backend: 'aws',
      concurrency: 100,
      partitions: 2,
      // The input sits under one prefix: 100 tasks each reading 10 files at once.
      settings: [...exact, 'getsPerSecond=50'],
      scale: { bytes: 1e9, files: 1000 },
      splitSize: 10e6,
      simulate: { reportDir: join(d.path, '503', 'report') },
    });
    const sim = plan.simulation;
    expect(sim?.counts.slowDowns).toBeGreaterThan(0);
    expect(sim?.mapTasks).toBe(100);
    const report = JSON.parse(readFileSync(join(d.path, '503', 'report', 'report.json'), 'utf8'));
    expect(report.stages[0].map.bytesIn).toBe(1e9);
  });

  it('fails attempts at the failure rate; they are retried and every task commits once', async () => {
    const input = inputOf('fail', 1, 100_000);
    const plan = await planJob(job, {
      input: [input],
      backend: 'aws',
      concurrency: 40,
      partitions: 4,
      settings: ['taskJitter=0', 'stragglerRate=0', 'failureRate=0.1'],
      scale: { bytes: 2e9, files: 40 },
      splitSize: 50e6,
      simulate: { reportDir: join(d.path, 'fail', 'report') },
    });
    const sim = plan.simulation;
    expect(sim?.counts.failures).toBeGreaterThan(0);
    expect(sim?.retries).toBe(sim?.counts.failures);
    const report = JSON.parse(readFileSync(join(d.path, 'fail', 'report', 'report.json'), 'utf8'));
    expect(report.stages[0].map.bytesIn).toBe(2e9);
    expect(report.stages[0].map.tasks).toBe(40);
  });

  it('simulates the combining tier: the reducers read the merges, and the GETs fall from M x R', async () => {
    const input = inputOf('merge', 1, 100_000);
    const run = (mergeFanIn: number) =>
      planJob(job, {
        input: [input],
        backend: 'aws',
        concurrency: 200,
        partitions: 50,
        settings: exact,
        mergeFanIn,
        scale: { bytes: 20e9, files: 400 },
        simulate: { reportDir: join(d.path, 'merge', String(mergeFanIn)) },
      });
    const [plain, merged] = [await run(0), await run(20)];
    const m = plain.simulation?.mapTasks ?? 0;
    expect(m).toBeGreaterThan(100);
    expect(plain.simulation?.mergeTasks).toBe(0);
    expect(merged.simulation?.mergeTasks).toBe(Math.ceil(m / 20));
    // The reducers' ranged GETs: M x R plainly; merged, one per merge and partition, and M whole reads.
    const gets = (p: typeof plain) => p.simulation?.counts.requests.get ?? 0;
    expect(gets(plain)).toBeGreaterThan(m * 50);
    expect(gets(merged)).toBeLessThan(m * 50 * 0.2);
    // As the estimate says.
    expect(merged.stages[0]?.mergeTasks).toBe(merged.simulation?.mergeTasks);
    expect(merged.simulation?.cost.usd).toBeLessThan(plain.simulation?.cost.usd ?? 0);
    const report = JSON.parse(readFileSync(join(d.path, 'merge', '20', 'report.json'), 'utf8'));
    expect(report.stages[0].merge.tasks).toBe(merged.simulation?.mergeTasks);
  });

  it('prints the simulation with the plan, and as JSON', () => {
    const input = inputOf('cli', 1, 100_000);
    const cwd = join(d.path, 'cli');
    const r = mr(
      ['plan', job, '--input', input, '--simulate', '--input-size', '1GB', '--input-files', '10'],
      cwd,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^plan: wordcount over 953\.7 MiB in 10 files, aws, up to 1,000 functions/m);
    expect(r.stdout).toMatch(
      /^simulated \(the driver's own scheduler against simulated Lambda and S3, seed 1\): [\d.]+ s, \$/m,
    );
    const page = /report: (\S+index\.html)/.exec(r.stdout)?.[1];
    expect(page && existsSync(resolve(cwd, page))).toBe(true);
    const j = mr(
      ['plan', job, '--input', input, '--simulate', '--json', '--report-dir', join(cwd, 'r')],
      cwd,
    );
    expect(j.code).toBe(0);
    const plan = JSON.parse(j.stdout);
    expect(plan.simulation.seconds).toBeGreaterThan(0);
    expect(plan.simulation.mapTasks).toBe(plan.mapTasks);
    expect(plan.simulation.reduceTasks).toBe(plan.reduceTasks);
  });

  it('refuses what it cannot simulate, in one line', () => {
    const input = inputOf('bad', 1, 1000);
    const cases: [string[], RegExp][] = [
      [['--seed', '3'], /^mr: --seed goes with --simulate$/],
      [['--simulate', '--backend', 'local'], /--simulate models Lambda and S3/],
      [['--simulate', '--set', 'failureRate=2'], /--set failureRate: expected a share from 0 to 1, got "2"/],
      [['--simulate', '--input-size', 'lots'], /--input-size/],
    ];
    for (const [flags, message] of cases) {
      const r = mr(['plan', job, '--input', input, ...flags], d.path);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
    }
    const run = mr(
      ['run', job, '--input', input, '--backend', 'sim', '--output', 'sim://out', '--work', 'sim://w'],
      d.path,
    );
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/exist only inside a simulation: run mr plan --simulate$/);
  });
});
