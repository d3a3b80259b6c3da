import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cancelJob, defineJob, JobCancelledError, resumeJob, runJob } from '../../src/index.js';
import { runMapTask } from '../../src/mapper/map-task.js';
import { LocalDirStore } from '../../src/store/local-dir-store.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';

describe('cancelling a job', () => {
  const setup = tempDirs('cancel');

  it('mr cancel from elsewhere stops the run as cancelled, and the job resumes to the exact output', async () => {
    const d = setup();
    const lines = Array.from({ length: 160 }, (_, i) => `line ${i % 13}`);
    d.file('in/a.txt', lines.join('\n'));
    const work = join(d.path, 'work');
    let asked: Promise<string> | undefined;
    let done = 0;
    const err = await runJob(resolve('test/fixtures/jobs/slow-map.ts'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      splitSize: 64,
      concurrency: 2,
      onProgress: (e) => {
        if (e.type === 'task-done' && ++done === 2)
          asked = cancelJob(
            e.taskId && readdirSync(join(work, 'jobs'))[0]
              ? (readdirSync(join(work, 'jobs'))[0] as string)
              : '',
            { workDir: work },
          );
      },
    }).catch((e: unknown) => e);
    expect(await asked).toBe('running');
    expect(err).toBeInstanceOf(JobCancelledError);
    const jobId = readdirSync(join(work, 'jobs'))[0] ?? '';
    expect(JSON.parse(readFileSync(join(work, 'jobs', jobId, 'status.json'), 'utf8')).state).toBe(
      'cancelled',
    );
    // Its marker does not stop the resumed run.
    expect(await resumeJob(jobId, { workDir: work })).toMatchObject({ resumed: true });
    const oracle = new Map<string, number>();
    for (const l of lines) oracle.set(JSON.stringify(l), (oracle.get(JSON.stringify(l)) ?? 0) + 1);
    expect(await readOutput(join(d.path, 'out'))).toEqual(oracle);
    expect(await cancelJob(jobId, { workDir: work })).toBe('succeeded');
  });

  it('stops a running task at its next batch once the cancel marker appears (as on Lambda)', async () => {
    const d = setup();
    const store = new LocalDirStore(d.path);
    // Three batches of about 1 MiB of lines (a task checks between batches), mapped slowly enough
    // that the task would still be running well after the marker's next look (every 2 s).
    const lines = 32_000;
    const text = `${'x'.repeat(99)}\n`.repeat(lines);
    writeFileSync(join(d.path, 'in.txt'), text);
    let mapped = 0;
    const job = defineJob({
      name: 'slow',
      map(line, emit) {
        if (++mapped === 5) writeFileSync(join(d.path, 'cancel'), 'now');
        emit(line.length, 1);
        if (mapped % 100 === 0) return new Promise<void>((r) => setTimeout(r, 10));
      },
      reduce() {},
    });
    const size = Buffer.byteLength(text);
    const err = await runMapTask(job, {
      kind: 'map',
      jobId: 'slow-1',
      stage: 0,
      taskId: 's0-m00000',
      attempt: 1,
      memoryBudget: 1 << 20,
      cancel: { store: store.url, key: 'cancel' },
      input: { format: 'text' },
      splits: [{ store: store.url, key: 'in.txt', start: 0, end: size, size }],
      partitions: 1,
      shuffleStore: store.url,
      shuffleKey: 'shuffle.shf',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    expect(mapped).toBeLessThan(lines);
  });
});
