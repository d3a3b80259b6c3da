import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJobProgress } from '../../src/driver/job-progress.js';
import { JobPausedError, type ProgressEvent, resumeJob, runJob, TaskFailedError } from '../../src/index.js';
import { LocalDirStore } from '../../src/store/local-dir-store.js';
import { readOutput } from '../helpers/read-output.js';
import { runMr } from '../helpers/run-mr.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const fixture = (name: string) => resolve('test/fixtures/jobs', `${name}.ts`);

/**
 * Every recorded commit of a phase: task id and the attempt that committed. Each record object holds
 * the commits of one write (see CommitLog); a task recorded twice keeps its latest, highest attempt.
 */
function commits(work: string, jobId: string, phase: 'map' | 'reduce'): Map<string, number> {
  const dir = join(work, 'jobs', jobId, 's0', 'commits', phase);
  const out = new Map<string, number>();
  // Only whole records: a store writes each under a hidden temporary name first.
  for (const f of (existsSync(dir) ? readdirSync(dir) : []).filter(
    (n) => n.endsWith('.json') && !n.startsWith('.'),
  )) {
    const o = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      commits: { taskId: string; attempt: number }[];
    };
    for (const c of o.commits) out.set(c.taskId, Math.max(c.attempt, out.get(c.taskId) ?? 0));
  }
  return out;
}

describe('resuming a job', () => {
  const setup = tempDirs('resume');

  it('pauses at its deadline, still running and claimed, and a resume under the chosen id finishes it exactly', async () => {
    const d = setup();
    // 720 lines, each a 4 ms wait in map, on one worker: the deadline, 2 s from now, comes in the map
    // phase whatever the machine.
    const texts = Array.from({ length: 12 }, (_, i) => wordText(60, 30, 40 + i));
    for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
    const work = join(d.path, 'work');
    const options = {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      concurrency: 1,
      splitSize: 1024,
      jobId: 'nightly-wc.2026-12-03',
    };
    const err = await runJob(fixture('slow-wordcount'), { ...options, deadline: Date.now() + 2000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JobPausedError);
    expect((err as Error).message).toBe(
      'job nightly-wc.2026-12-03 paused at its deadline: resume it to go on',
    );
    const status = JSON.parse(readFileSync(join(work, 'jobs', options.jobId, 'status.json'), 'utf8')) as {
      state: string;
      details?: { pausedAt?: string };
    };
    expect(status.state).toBe('running');
    expect(typeof status.details?.pausedAt).toBe('string');
    // mr status says so.
    const progress = await readJobProgress(new LocalDirStore(work), options.jobId);
    expect(progress).toMatchObject({ state: 'running', pausedAt: status.details?.pausedAt });
    const shown = runMr(['status', options.jobId, '--work', work]);
    expect(shown.stdout.split('\n')[0]).toMatch(
      /^job nightly-wc\.2026-12-03 \(slow-wordcount\): running \(paused at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, handing over to the next driver\)/,
    );
    expect(existsSync(join(d.path, 'out', '_SUCCESS'))).toBe(false);
    expect(readFileSync(join(d.path, 'out', '_FANOUT'), 'utf8')).toContain(options.jobId);
    const kept = commits(work, options.jobId, 'map');

    // Another run cannot take the same id, nor the claimed output.
    await expect(
      runJob(fixture('slow-wordcount'), { ...options, output: join(d.path, 'other') }),
    ).rejects.toThrow('a job nightly-wc.2026-12-03 is already in');
    const ran: string[] = [];
    const outcome = await resumeJob(options.jobId, {
      workDir: work,
      onProgress: (e: ProgressEvent) => {
        if (e.type === 'task-done' && e.phase === 'map') ran.push(e.taskId);
      },
    });
    expect(outcome.resumed).toBe(true);
    // Each map task ran once: committed before the pause and kept, or run by the resume.
    for (const task of kept.keys()) expect(ran).not.toContain(task);
    const plan = JSON.parse(readFileSync(join(work, 'jobs', options.jobId, 's0', 'plan.json'), 'utf8')) as {
      tasks: unknown[];
    };
    expect(plan.tasks.length).toBeGreaterThan(12);
    expect(kept.size + ran.length).toBe(plan.tasks.length);
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords(...texts));
  });

  it('after a failed task is fixed, runs only the tasks with no committed attempt', async () => {
    const d = setup();
    const flag = d.file('flag', '');
    const texts = [wordText(200, 40, 21), `flag ${flag}\n${wordText(200, 40, 22)}`, wordText(200, 40, 23)];
    for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
    const work = join(d.path, 'work');
    const options = {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      maxAttempts: 1,
      concurrency: 1,
      splitSize: 256,
    };
    const err = await runJob(fixture('fail-while-flagged'), options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    const failed = (err as TaskFailedError).context.taskId ?? '';
    const jobId = readdirSync(join(work, 'jobs'))[0] ?? '';
    const before = commits(work, jobId, 'map');
    const plan = JSON.parse(readFileSync(join(work, 'jobs', jobId, 's0', 'plan.json'), 'utf8')) as {
      tasks: unknown[];
    };
    const all = plan.tasks.map((_, i) => `s0-m${String(i).padStart(5, '0')}`);
    expect(before.size).toBeGreaterThan(0);
    expect(before.has(failed)).toBe(false);

    rmSync(flag);
    const ran: string[] = [];
    const outcome = await resumeJob(jobId, {
      workDir: work,
      onProgress: (e: ProgressEvent) => {
        if (e.type === 'task-done' && e.phase === 'map') ran.push(e.taskId);
      },
    });
    expect(outcome.resumed).toBe(true);
    // The committed maps kept their attempt; only the others ran (the failed one and those never
    // started), numbered above the first run's attempts.
    expect(ran.sort()).toEqual(all.filter((t) => !before.has(t)));
    expect(ran).toContain(failed);
    const after = commits(work, jobId, 'map');
    for (const [task, attempt] of before) expect(after.get(task)).toBe(attempt);
    for (const task of ran) expect(after.get(task)).toBeGreaterThan(1000);
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords(...texts));

    // A finished job says so.
    expect(await resumeJob(jobId, { workDir: work })).toMatchObject({
      resumed: false,
      status: { state: 'succeeded' },
    });
  });

  it('of a map-only stage keeps the committed part files and writes each record once', async () => {
    const d = setup();
    const flag = d.file('flag', '');
    const texts = [wordText(100, 40, 31), `flag ${flag}\n${wordText(100, 40, 32)}`, wordText(100, 40, 33)];
    for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
    const work = join(d.path, 'work');
    const out = join(d.path, 'out');
    const options = {
      input: [join(d.path, 'in')],
      output: out,
      workDir: work,
      maxAttempts: 1,
      splitSize: 512,
    };
    await expect(runJob(fixture('tag-while-flagged'), options)).rejects.toThrow(TaskFailedError);
    const jobId = readdirSync(join(work, 'jobs'))[0] ?? '';
    const before = commits(work, jobId, 'map');
    expect(before.size).toBeGreaterThan(0);
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);

    rmSync(flag);
    const ran: string[] = [];
    const outcome = await resumeJob(jobId, {
      workDir: work,
      onProgress: (e: ProgressEvent) => {
        if (e.type === 'task-done') ran.push(e.taskId);
      },
    });
    expect(outcome.resumed).toBe(true);
    for (const t of ran) expect(before.has(t), `${t} ran again`).toBe(false);
    const after = commits(work, jobId, 'map');
    for (const [task, attempt] of before) expect(after.get(task)).toBe(attempt);
    const parts = readdirSync(out).filter((n) => /^part-m-\d{5}\.jsonl$/.test(n));
    expect(parts.length).toBe(after.size);
    const written = parts
      .flatMap((p) => readFileSync(join(out, p), 'utf8').split('\n'))
      .filter((l) => l !== '')
      .map((l) => JSON.stringify(JSON.parse(l)))
      .sort();
    const want = texts
      .flatMap((t, i) =>
        t
          .split('\n')
          .slice(0, -1)
          .map((line) => JSON.stringify({ line, file: `${i}.txt` })),
      )
      .sort();
    expect(written).toEqual(want);
  });

  it('after Ctrl-C, continues to the exact output', async () => {
    const d = setup();
    const text = Array.from({ length: 120 }, (_, i) => `line ${i % 17}`).join('\n');
    d.file('in/a.txt', text);
    const work = join(d.path, 'work');
    const cancel = new AbortController();
    let done = 0;
    await runJob(fixture('slow-map'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      splitSize: 64,
      concurrency: 2,
      signal: cancel.signal,
      onProgress: (e) => {
        if (e.type === 'task-done' && ++done === 3) cancel.abort();
      },
    }).catch(() => {});
    const jobId = readdirSync(join(work, 'jobs'))[0] ?? '';
    const kept = commits(work, jobId, 'map');
    expect(kept.size).toBeGreaterThanOrEqual(3);
    const outcome = await resumeJob(jobId, { workDir: work });
    expect(outcome.resumed).toBe(true);
    const after = commits(work, jobId, 'map');
    for (const [task, attempt] of kept) expect(after.get(task)).toBe(attempt);
    const oracle = new Map<string, number>();
    for (const line of text.split('\n'))
      oracle.set(JSON.stringify(line), (oracle.get(JSON.stringify(line)) ?? 0) + 1);
    expect(await readOutput(join(d.path, 'out'))).toEqual(oracle);
  });

  it('after the driver is killed (SIGKILL), mr resume re-runs no committed task', {
    timeout: 120_000,
  }, async () => {
    const d = setup();
    const text = Array.from({ length: 200 }, (_, i) => `word${i % 23}`).join('\n');
    d.file('in/a.txt', text);
    const work = join(d.path, 'work');
    const out = join(d.path, 'out');
    const child = spawn(
      process.execPath,
      [
        resolve('bin/mr.js'),
        'run',
        fixture('slow-map'),
        '-i',
        join(d.path, 'in'),
        '-o',
        out,
        '--work',
        work,
        '--split-size',
        '64',
        '-c',
        '2',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise((ok) => child.on('exit', ok));
    const jobId = await new Promise<string>((ok, fail) => {
      const check = () => {
        const id = /^job (\S+)$/m.exec(stderr)?.[1];
        if (id && commits(work, id, 'map').size >= 3) ok(id);
        else if (child.exitCode !== null)
          fail(new Error(`mr run ended before it could be killed: ${stderr}`));
        else setTimeout(check, 20);
      };
      check();
    });
    child.kill('SIGKILL');
    await exited;
    const kept = commits(work, jobId, 'map');
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);

    const r = spawnSync(process.execPath, [resolve('bin/mr.js'), 'resume', jobId, '--work', work, '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toMatch(new RegExp(`^job ${jobId}$`, 'm'));
    expect(r.status).toBe(0);
    const after = commits(work, jobId, 'map');
    for (const [task, attempt] of kept) expect(after.get(task)).toBe(attempt);
    expect([...after.values()].filter((a) => a > 1000).length).toBe(after.size - kept.size);
    const oracle = new Map<string, number>();
    for (const w of text.split('\n')) oracle.set(JSON.stringify(w), (oracle.get(JSON.stringify(w)) ?? 0) + 1);
    expect(await readOutput(out)).toEqual(oracle);
    const again = spawnSync(process.execPath, [resolve('bin/mr.js'), 'resume', jobId, '--work', work], {
      encoding: 'utf8',
    });
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already succeeded; nothing to resume/);
  });
});
