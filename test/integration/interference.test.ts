import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineJob, type ProgressEvent, runJob, TaskFailedError, UsageError } from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const fixture = (name: string) => resolve('test/fixtures/jobs', `${name}.ts`);
const wordcount = resolve('jobs/wordcount.ts');
const parts = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('part-'));

// Each defect here once ended a run with exit 0 over a wrong output, hung it, or hid its cause.
describe('runs that meet odd input and interference', () => {
  const setup = tempDirs('interfere');

  it('refuses the second of two runs started together into one output folder', async () => {
    const d = setup();
    const text = wordText(2000, 300, 11);
    d.file('in/a.txt', text);
    const out = join(d.path, 'out');
    const run = (partitions: number, work: string) =>
      runJob(wordcount, {
        input: [join(d.path, 'in')],
        output: out,
        workDir: join(d.path, work),
        partitions,
      });
    const [a, b] = await Promise.allSettled([run(8, 'w1'), run(2, 'w2')]);
    const outcomes = [a, b].map((r) => r.status);
    expect(outcomes.sort()).toEqual(['fulfilled', 'rejected']);
    const refused = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(UsageError);
    expect((refused.reason as Error).message).toMatch(/output .* (is in use by job|already exists)/);
    // The folder holds the winner's parts only, each key once, counted exactly.
    const won = ([a, b].find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ parts: string[] }>)
      .value;
    expect(parts(out).sort()).toEqual(won.parts.sort());
    expect(await readOutput(out)).toEqual(countWords(text));
  });

  it('leaves a failed run its output folder empty again, and a finished one its marker', async () => {
    const d = setup();
    d.file('in/a.txt', 'poison\n');
    const out = join(d.path, 'out');
    await expect(
      runJob(fixture('always-throws'), {
        input: [join(d.path, 'in')],
        output: out,
        workDir: join(d.path, 'work'),
        maxAttempts: 1,
      }),
    ).rejects.toThrow(TaskFailedError);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    d.file('ok/a.txt', 'a b a\n');
    await runJob(wordcount, { input: [join(d.path, 'ok')], output: out, workDir: join(d.path, 'work') });
    expect(readdirSync(out)).toContain('_FANOUT');
    await expect(
      runJob(wordcount, { input: [join(d.path, 'ok')], output: out, workDir: join(d.path, 'work') }),
    ).rejects.toThrow(/already exists and is not empty/);
  });

  it('never reads its own work or output folders when they sit inside the input folder', async () => {
    const d = setup();
    const texts = [wordText(300, 40, 12), wordText(300, 40, 13)];
    d.file('nest/a.txt', texts[0] as string);
    d.file('nest/sub/b.txt', texts[1] as string);
    // The work folder holds the job's bundle and state; the output folder fills while the job runs.
    const result = await runJob(wordcount, {
      input: [join(d.path, 'nest'), join(d.path, 'nest/sub'), join(d.path, 'nest/**/*.txt')],
      output: join(d.path, 'nest/out'),
      workDir: join(d.path, 'nest/w'),
      splitSize: 256,
    });
    expect(result.counters.inputFiles).toBe(2);
    expect(await readOutput(join(d.path, 'nest/out'))).toEqual(countWords(...texts));
    // A second run over the same folder sees the first one's output as ordinary input, once.
    const again = await runJob(resolve('jobs/wordcount-js.ts'), {
      input: [join(d.path, 'nest/a.txt'), join(d.path, 'nest')],
      output: join(d.path, 'out2'),
      workDir: join(d.path, 'nest/w'),
    });
    expect(again.counters.inputFiles).toBe(2 + result.parts.length);
  });

  it('refuses as input an output whose job died during its final moves', async () => {
    const d = setup();
    d.file('in/a.txt', wordText(500, 60, 14));
    const first = join(d.path, 'first');
    await runJob(wordcount, {
      input: [join(d.path, 'in')],
      output: first,
      workDir: join(d.path, 'work'),
      partitions: 4,
    });
    // What a driver killed mid-commit leaves: some parts moved, the rest under _temporary/, no _SUCCESS.
    rmSync(join(first, '_SUCCESS'));
    mkdirSync(join(first, '_temporary', 's0-r00003-a1'), { recursive: true });
    renameSync(
      join(first, 'part-00003.jsonl'),
      join(first, '_temporary', 's0-r00003-a1', 'part-00003.jsonl'),
    );
    const second = (extra: { allowIncomplete?: boolean }) =>
      runJob(resolve('jobs/wordcount-js.ts'), {
        input: [first],
        output: join(d.path, `second-${Object.keys(extra).length}`),
        workDir: join(d.path, 'work'),
        ...extra,
      });
    await expect(second({})).rejects.toThrow(
      /input .*first is the output of a Fanout job that did not finish \(no _SUCCESS\); pass --allow-incomplete/,
    );
    await expect(
      runJob(wordcount, {
        input: [join(first, 'part-00000.jsonl')],
        output: join(d.path, 'third'),
        workDir: join(d.path, 'work'),
      }),
    ).rejects.toThrow(/did not finish/);
    const forced = await second({ allowIncomplete: true });
    expect(forced.counters.inputFiles).toBe(3);
  });

  it('abandons and retries an attempt stuck in an endless loop, then counts exactly', async () => {
    const d = setup();
    d.file('in/a.txt', 'a\nb\n');
    d.file('in/b.txt', 'hang\nb\n');
    const retries: string[] = [];
    const result = await runJob(fixture('hang-map'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 4,
      concurrency: 2,
      taskTimeoutMs: 500,
      retryBaseMs: 1,
      onProgress: (e) => {
        if (e.type === 'task-retry') retries.push(e.error);
      },
    });
    expect(retries).toEqual([expect.stringMatching(/attempt 1 timed out after 500 ms \(--task-timeout\)/)]);
    expect(result.counters.retries).toBe(1);
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords('a\nb\nhang\nb\n'));
  });

  it.each([
    ['an endless loop', 'hang!'],
    ['a promise that never settles', 'stall!'],
  ])('fails the job on a map that always hangs in %s, naming the timeout', async (_what, line) => {
    const d = setup();
    d.file('in/a.txt', `${line}\n`);
    const err = await runJob(fixture('hang-map'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      taskTimeoutMs: 300,
      maxAttempts: 2,
      retryBaseMs: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as Error).message).toMatch(/failed after 2 attempts: .*timed out after 300 ms/);
  });

  it('times out a job object whose map never settles, in the calling thread', async () => {
    const d = setup();
    d.file('in/a.txt', 'x\n');
    const job = defineJob({
      name: 'stall-inline',
      map: () => new Promise<void>(() => {}),
      reduce() {},
    });
    const err = await runJob(job, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      taskTimeoutMs: 200,
      maxAttempts: 1,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/timed out after 200 ms/);
  });

  it('reports the task failure that came first, and a failure to save state after it as a note', async () => {
    const d = setup();
    const work = join(d.path, 'work');
    d.file('in/a.txt', `${work}\n`);
    const err = await runJob(fixture('break-state'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      maxAttempts: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as Error).message).toMatch(/map threw: the first cause/);
    expect((err as TaskFailedError).also).toEqual([
      expect.stringMatching(/^could not save the status of the map tasks: /),
    ]);
    const status = JSON.parse(
      readFileSync(join(work, 'jobs', readdirSync(join(work, 'jobs'))[0] ?? '', 'status.json'), 'utf8'),
    );
    expect(status).toMatchObject({
      state: 'failed',
      details: { error: expect.stringMatching(/the first cause/) },
    });
  });

  it('bounds --partitions as stage definitions are, and refuses an output that is a file', async () => {
    const d = setup();
    d.file('in/a.txt', 'x\n');
    const base = { input: [join(d.path, 'in')], workDir: join(d.path, 'work') };
    await expect(runJob(wordcount, { ...base, partitions: 200_000 })).rejects.toThrow(
      /partitions must be an integer in 1\.\.100000, got 200000/,
    );
    const file = d.file('taken.txt', 'mine\n');
    await expect(runJob(wordcount, { ...base, output: file })).rejects.toThrow(
      /output .*taken\.txt is a file, not a folder/,
    );
    await expect(runJob(wordcount, { ...base, output: join(file, 'out') })).rejects.toThrow(
      /is inside a file, not a folder/,
    );
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('warns when local concurrency is far above the cores', async () => {
    const d = setup();
    d.file('in/a.txt', 'x\n');
    const events: ProgressEvent[] = [];
    const concurrency = 2 * availableParallelism() + 1;
    await runJob(wordcount, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      concurrency,
      onProgress: (e) => events.push(e),
    });
    expect(events.filter((e) => e.type === 'warning')).toEqual([
      {
        type: 'warning',
        message: expect.stringMatching(
          new RegExp(`^concurrency ${concurrency} starts that many worker threads`),
        ),
      },
    ]);
  });

  it('reports a progress listener that throws, once, and still finishes exactly', async () => {
    const d = setup();
    d.file('in/a.txt', 'a b a\n');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      await runJob(wordcount, {
        input: [join(d.path, 'in')],
        output: join(d.path, 'out'),
        workDir: join(d.path, 'work'),
        onProgress: () => {
          throw new Error('listener bug');
        },
      });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual(['FanoutWarning: onProgress listener threw on a job-start event: listener bug']);
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords('a b a\n'));
  });
});
