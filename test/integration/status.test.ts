import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMr as mr } from '../helpers/run-mr.js';
import { tempDir } from '../helpers/temp.js';

const d = tempDir('status');
afterAll(() => d.cleanup());
const work = join(d.path, 'work');

/** A folder of `files` files of `lines` lines each. */
function inputOf(name: string, files: number, lines: number, poison = false): string {
  const dir = join(d.path, name);
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < files; f++) {
    const text = Array.from({ length: lines }, (_, i) => `w${i % 7} x${f}`).join('\n');
    writeFileSync(join(dir, `f${f}.txt`), `${text}\n${poison && f === 1 ? 'poison\n' : ''}`);
  }
  return dir;
}

/** The job id `mr run` printed on stderr. */
const jobIdOf = (stderr: string) => /^job (\S+)$/m.exec(stderr)?.[1] as string;

describe('mr status', () => {
  it("shows a finished job's stages from the store: every task committed", () => {
    // 3 small files at the default split size: packed into one map task; 3 partitions, 3 reducers.
    const input = inputOf('ok', 3, 100);
    const run = mr([
      'run',
      'jobs/wordcount.ts',
      '-i',
      input,
      '-o',
      join(d.path, 'ok-out'),
      '--work',
      work,
      '-p',
      '3',
    ]);
    expect(run.code).toBe(0);
    const id = jobIdOf(run.stderr);
    const s = mr(['status', id, '--work', work, '--json']);
    expect(s.code).toBe(0);
    const p = JSON.parse(s.stdout) as {
      state: string;
      stages: { map: { total: number; committed: number } }[];
    };
    expect(p.state).toBe('succeeded');
    expect(p.stages).toHaveLength(1);
    expect(p.stages[0]).toMatchObject({
      map: { total: 1, committed: 1, failed: 0 },
      reduce: { total: 3, committed: 3 },
    });
    const text = mr(['status', id, '--work', work]);
    expect(text.stdout).toMatch(
      new RegExp(`^job ${id} \\(wordcount\\): succeeded, started .+, [\\d.]+ m?s$`, 'm'),
    );
    expect(text.stdout).toMatch(/^stage 0: map 1\/1 committed, reduce 3\/3 committed$/m);
  });

  it('names the failed task and its error', () => {
    const input = inputOf('bad', 2, 5, true);
    const run = mr([
      ...['run', 'test/fixtures/jobs/always-throws.ts', '-i', input, '-o', join(d.path, 'bad-out')],
      ...['--work', work, '--split-size', '20', '--max-attempts', '2'],
    ]);
    expect(run.code).toBe(1);
    const id = jobIdOf(run.stderr);
    const s = mr(['status', id, '--work', work]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(new RegExp(`^job ${id} \\(always-throws\\): failed`, 'm'));
    expect(s.stdout).toMatch(/^stage 0: map \d+\/\d+ committed, 1 failed, reduce not started$/m);
    expect(s.stdout).toMatch(/^failed: s0-m\d{5} after 2 attempt\(s\): .*cannot handle "poison"/m);
  });

  it('shows a running job as running, part of its map tasks committed', async () => {
    const input = inputOf('slow', 4, 150);
    const child = spawn(
      process.execPath,
      [
        ...[resolve('bin/mr.js'), 'run', 'test/fixtures/jobs/slow-wordcount.ts', '-i', input],
        ...['-o', join(d.path, 'slow-out'), '--work', work, '--split-size', '200', '-c', '1'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    try {
      type Progress = { state: string; stages: { map: { total: number; committed: number } }[] };
      let seen: Progress | undefined;
      for (let i = 0; i < 200 && !seen; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const id = jobIdOf(stderr);
        if (!id) continue;
        const s = mr(['status', id, '--work', work, '--json']);
        if (s.code !== 0) continue;
        const p = JSON.parse(s.stdout) as Progress;
        const map = p.stages[0]?.map;
        if (p.state === 'running' && map && map.committed > 0 && map.committed < map.total) seen = p;
      }
      expect(seen, 'a status with the map phase part done').toBeDefined();
      expect((seen as Progress | undefined)?.stages[0]?.map.total).toBeGreaterThan(10);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses an unknown job in one line', () => {
    const s = mr(['status', 'no-such-job', '--work', work]);
    expect(s.code).toBe(2);
    expect(s.stderr.trim()).toMatch(/^mr: no job no-such-job in /);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
  });
});
