import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobReport } from '../../src/driver/job-report.js';
import { FanoutError, type JobResult, runJob } from '../../src/index.js';
import { tempDirs } from '../helpers/temp.js';
import { wordText } from '../helpers/words.js';

const fixture = (name: string) => resolve('test/fixtures/jobs', `${name}.ts`);

// `npm test` builds before testing: these run the built CLI as a user would.
const mr = (args: string[]) => {
  const r = spawnSync(process.execPath, [resolve('bin/mr.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const readReport = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as JobReport;

describe('the job report', () => {
  const setup = tempDirs('report');

  /** The flaky map job (its first map task throws on its first attempt) over two small files. */
  async function flakyRun(d: ReturnType<typeof setup>): Promise<JobResult> {
    d.file('in/a.txt', wordText(300, 50, 1));
    d.file('in/b.txt', wordText(300, 50, 2));
    return runJob(fixture('flaky-map'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 512,
      concurrency: 2,
      partitions: 3,
      retryBaseMs: 1,
    });
  }

  it('is written into _report/ before _SUCCESS, with every attempt, its lane and the retry', async () => {
    const d = setup();
    const result = await flakyRun(d);
    const out = join(d.path, 'out');
    const html = join(out, '_report', 'index.html');
    expect(result.report).toBe(html);
    expect(statSync(join(out, '_report', 'report.json')).mtimeMs).toBeLessThanOrEqual(statSync(html).mtimeMs);
    expect(statSync(html).mtimeMs).toBeLessThanOrEqual(statSync(join(out, '_SUCCESS')).mtimeMs);

    const report = readReport(join(out, '_report', 'report.json'));
    expect(report).toMatchObject({ jobId: result.jobId, state: 'succeeded', run: 1, backend: 'local' });
    // One attempt per task, and one more for the retry.
    expect(report.attempts).toHaveLength(result.counters.tasks + result.counters.retries);
    expect(
      report.attempts.filter((a) => a.taskId === 's0-m00000').map((a) => [a.attempt, a.outcome]),
    ).toEqual([
      [1, 'retried'],
      [2, 'ok'],
    ]);
    expect(report.attempts.find((a) => a.outcome === 'retried')?.error).toMatch(/transient failure/);
    for (const a of report.attempts) {
      expect(a.lane).toMatch(/^worker [01]$/);
      expect(a.endMs).toBeGreaterThanOrEqual(a.startMs);
    }
    // The map phase's barrier comes before any reduce attempt starts.
    const mapEnd = report.phases.find((p) => p.phase === 'map')?.endMs ?? Number.NaN;
    for (const a of report.attempts.filter((x) => x.phase === 'reduce'))
      expect(a.startMs).toBeGreaterThanOrEqual(mapEnd);
    expect(report.stages[0]?.map.recordsIn).toBe(result.counters.inputRecords);
    expect(report.stages[0]?.reduce.recordsOut).toBe(result.counters.outputRecords);
    expect(report.cost).toMatchObject({ basis: 'local', usage: { invocations: report.attempts.length } });
    expect(readFileSync(html, 'utf8').split('data-attempt="').length - 1).toBe(report.attempts.length);
    // Kept with the job's state too, for mr report.
    expect(readReport(join(d.path, 'work', 'jobs', result.jobId, 'runs', '1.json')).attempts).toEqual(
      report.attempts,
    );
  });

  it('mr report prints the page, builds it again once removed, and refuses an unknown id in one line', async () => {
    const d = setup();
    const result = await flakyRun(d);
    const work = join(d.path, 'work');
    const html = join(d.path, 'out', '_report', 'index.html');
    const first = mr(['report', result.jobId, '--work', work]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(resolve(first.stdout.trim())).toBe(html);
    const page = readFileSync(html, 'utf8');

    rmSync(join(d.path, 'out', '_report'), { recursive: true });
    const again = mr(['report', result.jobId, '--work', work]);
    expect(again.code).toBe(0);
    expect(resolve(again.stdout.trim())).toBe(html);
    expect(readFileSync(html, 'utf8')).toBe(page);

    const unknown = mr(['report', 'no-such-job', '--work', work]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`mr: no job no-such-job in ${work}\n`);
  });

  it('goes with the job state when a run fails, and the error says where', async () => {
    const d = setup();
    d.file('in/a.txt', 'ok\npoison\n');
    const work = join(d.path, 'work');
    const err = await runJob(fixture('always-throws'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      maxAttempts: 2,
      retryBaseMs: 1,
      concurrency: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FanoutError);
    const where = (err as FanoutError).report ?? '';
    expect(where).toMatch(new RegExp(`^${work}/jobs/always-throws-[^/]+/_report/index\\.html$`));
    const report = readReport(join(where, '..', 'report.json'));
    expect(report.state).toBe('failed');
    expect(report.error).toMatch(/failed after 2 attempts/);
    expect(report.attempts.map((a) => a.outcome)).toEqual(['retried', 'failed']);
    // The failed run's output folder is left empty, as before.
    expect(existsSync(join(d.path, 'out')) ? readdirSync(join(d.path, 'out')) : []).toEqual([]);

    const cli = mr([
      'run',
      fixture('always-throws'),
      '-i',
      join(d.path, 'in'),
      '-o',
      join(d.path, 'out2'),
      '--work',
      work,
      '--max-attempts',
      '1',
    ]);
    expect(cli.code).toBe(1);
    const line = /^mr: report: (.+)$/m.exec(cli.stderr)?.[1] ?? '';
    expect(existsSync(resolve(line))).toBe(true);
    expect(cli.stderr.trimEnd().split('\n').at(-1)).toBe(`mr: report: ${line}`);
  });
});
