import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMr as mr } from '../helpers/run-mr.js';
import { tempDir } from '../helpers/temp.js';

const d = tempDir('logs');
afterAll(() => d.cleanup());
const work = join(d.path, 'work');

describe('mr logs', () => {
  it("prints every attempt's ctx.log lines from the store, a failed attempt's too, by task or all", () => {
    const input = join(d.path, 'in');
    mkdirSync(input, { recursive: true });
    writeFileSync(join(input, 'a.txt'), '# first file\napple pear\n');
    writeFileSync(join(input, 'b.txt'), '# second file\napple fig\n');
    const run = mr([
      ...['run', 'test/fixtures/jobs/logging-map.ts', '-i', input, '-o', join(d.path, 'out')],
      ...['--work', work, '--split-size', '16', '-p', '1', '--max-attempts', '2'],
    ]);
    expect(run.code, run.stderr).toBe(0);
    // The lines reach stderr as they always did.
    expect(run.stderr).toMatch(/\[logging-map-\S+ s0-m00000\] warn: giving up on this attempt/);
    const id = /^job (\S+)$/m.exec(run.stderr)?.[1] as string;

    const one = mr(['logs', id, '--work', work, '--task', 's0-m00000']);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(
      [
        '== s0-m00000 attempt 1',
        `[${id} s0-m00000] header # first file {"attempt":1}`,
        `[${id} s0-m00000] warn: giving up on this attempt`,
        '== s0-m00000 attempt 2',
        `[${id} s0-m00000] header # first file {"attempt":2}`,
        '',
      ].join('\n'),
    );
    const all = mr(['logs', id, '--work', work]);
    const headers = all.stdout.split('\n').filter((l) => l.startsWith('== '));
    // a.txt and b.txt are 24 and 23 bytes: at 16 bytes a split, two tasks each; the header lines are
    // in the first split of each file. s0-m00000 ran twice; one reducer logged "apple".
    expect(headers).toEqual([
      '== s0-m00000 attempt 1',
      '== s0-m00000 attempt 2',
      '== s0-m00002 attempt 1',
      '== s0-r00000 attempt 1',
    ]);
    expect(all.stdout).toContain(`[${id} s0-r00000] error: apple seen {"n":2}`);
  });

  it('says when a task logged nothing, and refuses an unknown job in one line', () => {
    const input = join(d.path, 'quiet');
    mkdirSync(input, { recursive: true });
    writeFileSync(join(input, 'a.txt'), 'pear fig\n');
    const run = mr([
      'run',
      'test/fixtures/jobs/logging-map.ts',
      '-i',
      input,
      '-o',
      join(d.path, 'q-out'),
      '--work',
      work,
    ]);
    expect(run.code).toBe(0);
    const id = /^job (\S+)$/m.exec(run.stderr)?.[1] as string;
    expect(mr(['logs', id, '--work', work]).stdout).toBe(`job ${id}: no task logged anything\n`);
    const unknown = mr(['logs', 'no-such-job', '--work', work]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^mr: no job no-such-job in /);
  });
});
