import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMr as mr } from '../helpers/run-mr.js';
import { tempDir } from '../helpers/temp.js';

const d = tempDir('plan');
afterAll(() => d.cleanup());

/** A folder holding `files` text files of `bytes` bytes each (lines of 100 bytes). */
function inputOf(name: string, files: number, bytes: number): string {
  const dir = join(d.path, name, 'in');
  mkdirSync(dir, { recursive: true });
  const line = `${'word '.repeat(19)}abcd\n`;
  for (let f = 0; f < files; f++) writeFileSync(join(dir, `f${f}.txt`), line.repeat(bytes / line.length));
  return dir;
}

describe('mr plan', () => {
  it('plans the tasks a run would make, prints them as JSON, and writes nothing', () => {
    const input = inputOf('json', 2, 3 * 1024 * 1000);
    const cwd = join(d.path, 'json');
    const r = mr(
      ['plan', resolve('jobs/wordcount.ts'), '--input', input, '--split-size', '1MiB', '-p', '3', '--json'],
      cwd,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as Record<string, unknown>;
    // 3,072,000 bytes a file in splits of 1 MiB: 3 each (1 MiB, 1 MiB and the rest), 6 in all.
    const mapTasks = 2 * Math.ceil((3 * 1024 * 1000) / (1024 * 1024));
    expect(plan).toMatchObject({
      mapTasks,
      reduceTasks: 3,
      inputBytes: 2 * 3 * 1024 * 1000,
      inputFiles: 2,
      shuffleObjects: mapTasks,
      // A GET per split, per reducer's input list and per slice (map tasks x reducers).
      requests: { get: mapTasks + 3 + mapTasks * 3, list: 1 },
    });
    for (const k of ['shuffleBytes', 'estimatedSeconds', 'estimatedCostUsd'])
      expect(plan[k] as number, k).toBeGreaterThan(0);
    // Nothing but the input: no output folder, no job state, no bundle.
    expect(readdirSync(cwd)).toEqual(['in']);
  });

  it('prints a plan for people, on aws at a thousand functions', () => {
    const input = inputOf('text', 1, 1024 * 1000);
    const r = mr(
      ['plan', resolve('jobs/wordcount.ts'), '--input', input, '--backend', 'aws', '--memory', '1024'],
      d.path,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^plan: wordcount over 1000\.0 KiB in 1 file, aws, up to 1,000 functions of 1024 MB \(arm64\)$/m,
    );
    expect(r.stdout).toMatch(/^stage 0: 1 map tasks over 1000\.0 KiB, 8 reduce tasks$/m);
    expect(r.stdout).toMatch(/^S3 requests: 17 GET, 31 PUT, 1 LIST$/m);
    expect(r.stdout).toMatch(/^estimated: [\d.]+ s, \$[\d.e-]+ on Lambda/m);
    expect(r.stdout).toMatch(/assumed: --calibrate measures this job/);
  });

  it('measures the job on a sample with --calibrate, and leaves nothing behind', () => {
    const input = inputOf('calibrate', 1, 200 * 1000);
    const cwd = join(d.path, 'calibrate');
    const r = mr(['plan', resolve('jobs/wordcount.ts'), '--input', input, '--calibrate', '--json'], cwd);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      calibration: Record<string, number>;
      model: Record<string, number>;
    };
    expect(plan.calibration.sampleBytes).toBe(200 * 1000);
    // Each line holds 2 distinct words: the combined shuffle is far smaller than the input.
    expect(plan.calibration.shuffleRatio).toBeGreaterThan(0);
    expect(plan.calibration.shuffleRatio).toBeLessThan(0.01);
    expect(plan.model.shuffleRatio).toBe(plan.calibration.shuffleRatio);
    expect(plan.calibration.mapMBps).toBeGreaterThan(0);
    expect(readdirSync(cwd)).toEqual(['in']);
  });

  it('prices the estimate from --prices', () => {
    const input = inputOf('prices', 1, 1000);
    const table = join(d.path, 'prices.json');
    // A dollar an invocation: the estimate's cost is then the invocations, 1 map and 8 reduce tasks,
    // and a little for the rest.
    writeFileSync(table, JSON.stringify({ lambda: { request: 1 } }));
    const r = mr(
      ['plan', resolve('jobs/wordcount.ts'), '--input', input, '--prices', table, '--json'],
      d.path,
    );
    expect(r.code, r.stderr).toBe(0);
    const cost = (JSON.parse(r.stdout) as { estimatedCostUsd: number }).estimatedCostUsd;
    expect(cost).toBeGreaterThanOrEqual(9);
    expect(cost).toBeLessThan(9.01);
  });

  it('refuses bad flags in one line with exit 2', () => {
    const input = inputOf('bad', 1, 1000);
    for (const [flags, message] of [
      [['--set', 'speed=3'], /^mr: --set "speed=3": expected name=value/],
      [['--memory', '64'], /^mr: invalid value "64" for --memory: expected a whole number of at least 128$/],
      [['--arch', 'sparc'], /^mr: --arch must be arm64 or x86_64, got "sparc"$/],
      [['--backend', 'cloud'], /^mr: backend must be one of local, aws, sim, got "cloud"$/],
    ] as [string[], RegExp][]) {
      const r = mr(['plan', resolve('jobs/wordcount.ts'), '--input', input, ...flags], d.path);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
    }
    const none = mr(['plan', resolve('jobs/wordcount.ts')], d.path);
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe('mr: mr plan needs --input');
  });
});
