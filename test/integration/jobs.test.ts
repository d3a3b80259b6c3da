import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listJobs } from '../../src/driver/job-list.js';
import { JobState } from '../../src/driver/job-state.js';
import { runJob } from '../../src/index.js';
import { openStore } from '../../src/store/open-store.js';
import { runMr as mr } from '../helpers/run-mr.js';
import { tempDirs } from '../helpers/temp.js';

describe('mr jobs and mr clean', () => {
  const setup = tempDirs('jobs');

  it('lists finished, failed and abandoned jobs, and cleans only finished ones', async () => {
    const d = setup();
    const work = join(d.path, 'work');
    d.file('in/a.txt', 'a b a\n'.repeat(500));
    const ok = await runJob(resolve('jobs/wordcount.ts'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out1'),
      workDir: work,
      keepIntermediate: true,
    });
    await runJob(resolve('test/fixtures/jobs/always-throws.ts'), {
      input: [d.file('bad/a.txt', 'poison\n')],
      output: join(d.path, 'out2'),
      workDir: work,
      maxAttempts: 1,
    }).catch(() => {});
    // A driver killed without a word: its status says running, its heartbeat is old.
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    d.file(
      'work/jobs/ghost-1/job.json',
      JSON.stringify({ name: 'ghost', input: ['x'], output: 'y', startedAt: old }),
    );
    d.file(
      'work/jobs/ghost-1/status.json',
      JSON.stringify({ state: 'running', startedAt: old, updatedAt: old, heartbeatAt: old }),
    );
    d.file('work/jobs/ghost-1/data/s0/shuffle/00/s0-m00000-a1.shf', 'x'.repeat(100));

    const listed = JSON.parse(mr(['jobs', '--work', work, '--json']).stdout) as {
      jobId: string;
      state: string;
      dataBytes: number;
      output?: string;
    }[];
    const byName = Object.fromEntries(listed.map((j) => [j.jobId.split('-')[0], j]));
    expect(Object.keys(byName).sort()).toEqual(['always', 'ghost', 'wordcount']);
    expect(byName.wordcount).toMatchObject({
      jobId: ok.jobId,
      state: 'succeeded',
      output: join(d.path, 'out1'),
    });
    expect(byName.wordcount?.dataBytes).toBeGreaterThan(0);
    expect(byName.always).toMatchObject({ state: 'failed' });
    expect(byName.ghost).toMatchObject({ state: 'abandoned', dataBytes: 100 });

    const table = mr(['jobs', '--work', work]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^JOB\s+STATE\s+STARTED\s+DURATION\s+INPUT\s+OUTPUT\s+DATA$/);
    expect(table.stdout).toMatch(new RegExp(`^${ok.jobId}\\s+succeeded\\s`, 'm'));

    const one = mr(['clean', ok.jobId, '--work', work]);
    expect(one).toMatchObject({ code: 0 });
    expect(existsSync(join(work, 'jobs', ok.jobId, 'data'))).toBe(false);
    expect(existsSync(join(work, 'jobs', ok.jobId, 'status.json'))).toBe(true);
    expect(mr(['clean', '--finished', '--work', work]).stdout).toMatch(
      /removed 100 B of intermediate data of 1 job/,
    );
    expect((await listJobs(openStore(work))).every((j) => j.dataBytes === 0)).toBe(true);
    expect(mr(['clean', 'no-such-job', '--work', work])).toMatchObject({ code: 2 });
  });

  it('refuses to clean a running job', async () => {
    const d = setup();
    const now = new Date().toISOString();
    d.file(
      'work/jobs/live-1/status.json',
      JSON.stringify({ state: 'running', updatedAt: now, heartbeatAt: now }),
    );
    const r = mr(['clean', 'live-1', '--work', join(d.path, 'work')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/job live-1 is running: only a finished job is cleaned/);
  });

  it('beats while running, and no heartbeat lands after the final status', async () => {
    const d = setup();
    const store = openStore(join(d.path, 'work'));
    const state = new JobState(store, 'beat-1');
    await state.start({ name: 'beat' }, 10);
    const read = () => JSON.parse(readFileSync(join(d.path, 'work/jobs/beat-1/status.json'), 'utf8'));
    const first = read().heartbeatAt as string;
    await new Promise((r) => setTimeout(r, 60));
    expect(Date.parse(read().heartbeatAt)).toBeGreaterThan(Date.parse(first));
    await state.finish('succeeded', {});
    await new Promise((r) => setTimeout(r, 60));
    expect(read()).toMatchObject({ state: 'succeeded' });
    expect(read().heartbeatAt).toBeUndefined();
  });
});
