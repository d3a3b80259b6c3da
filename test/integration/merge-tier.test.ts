import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/driver/progress.js';
import { runJob } from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { runMr as mr } from '../helpers/run-mr.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

/** Stage 0's shuffle objects in a local work folder, those of merge tasks (`-g`) or of map tasks (`-m`). */
function shuffleObjects(work: string, of: 'map' | 'merge'): string[] {
  const jobs = join(work, 'jobs');
  const out: string[] = [];
  for (const job of readdirSync(jobs)) {
    const dir = join(jobs, job, 'data', 's0', 'shuffle');
    for (const spread of readdirSync(dir))
      for (const f of readdirSync(join(dir, spread)))
        if (f.endsWith('.shf') && f.includes(of === 'map' ? '-m' : '-g')) out.push(join(dir, spread, f));
  }
  return out.sort();
}

/** Flips a byte of a file's records, as a store losing a bit would. */
function corrupt(file: string): void {
  const bytes = readFileSync(file);
  bytes[10] = (bytes[10] ?? 0) ^ 0xff;
  writeFileSync(file, bytes);
}

describe('the combining tier (merge tasks between map and reduce)', () => {
  const setup = tempDirs('merge-tier');
  const texts = [wordText(600, 300, 41), wordText(600, 300, 42), wordText(600, 300, 43)];

  const run = async (o: { job?: string; fanIn?: number; onProgress?: (e: ProgressEvent) => void }) => {
    const d = setup();
    for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
    const work = join(d.path, 'work');
    const events: ProgressEvent[] = [];
    const result = await runJob(resolve(o.job ?? 'jobs/wordcount-js.ts'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      splitSize: 1024,
      partitions: 3,
      concurrency: 2,
      retryBaseMs: 1,
      keepIntermediate: true,
      ...(o.fanIn !== undefined && { mergeFanIn: o.fanIn }),
      onProgress: (e) => {
        events.push(e);
        o.onProgress?.(e);
      },
    });
    return { d, work, result, events, output: await readOutput(join(d.path, 'out')) };
  };

  it('merges map outputs a group at a time; the reducers read the merges and the answer is exact', async () => {
    for (const job of ['jobs/wordcount.ts', 'jobs/wordcount-js.ts']) {
      const { work, result, events, output } = await run({ job, fanIn: 4 });
      expect(output, job).toEqual(countWords(...texts));
      const maps = events.find((e) => e.type === 'phase-start' && e.phase === 'map');
      const merges = events.find((e) => e.type === 'phase-start' && e.phase === 'merge');
      if (maps?.type !== 'phase-start' || merges?.type !== 'phase-start') throw new Error('no phases');
      expect(merges.tasks).toBe(Math.ceil(maps.tasks / 4));
      expect(shuffleObjects(work, 'merge')).toHaveLength(merges.tasks);
      // Each reducer's list names one slice per merge that holds any of its partition, never a map output.
      const lists = join(work, 'jobs', result.jobId, 'data', 's0', 'reduce-inputs');
      for (const f of readdirSync(lists)) {
        const list = JSON.parse(readFileSync(join(lists, f), 'utf8')) as { key: string[]; prefix: string };
        expect(list.key.length).toBeLessThanOrEqual(merges.tasks);
        for (const k of list.key) expect(`${list.prefix}${k}`).toMatch(/-g\d+-a\d+\.shf$/);
      }
      expect(result.counters.tasks).toBe(maps.tasks + merges.tasks + 3);
    }
  });

  it('runs no merge phase locally unless asked, and none when told 0', async () => {
    for (const fanIn of [undefined, 0]) {
      const { events, output } = await run({ ...(fanIn !== undefined && { fanIn }) });
      expect(output).toEqual(countWords(...texts));
      expect(events.some((e) => e.type === 'phase-start' && e.phase === 'merge')).toBe(false);
    }
  });

  it('runs the map task again when a merge finds its output failing its checksum, and merges on', async () => {
    let done = false;
    const holder: { work?: string } = {};
    const { result, output } = await runWith(holder, (e) => {
      if (e.type === 'phase-start' && e.phase === 'merge' && !done && holder.work) {
        done = true;
        const [first] = shuffleObjects(holder.work, 'map');
        if (first) corrupt(first);
      }
    });
    expect(done).toBe(true);
    expect(result.counters.mapsRerun).toBe(1);
    expect(output).toEqual(countWords(...texts));
  });

  it('runs the merge task again when a reducer finds its output failing its checksum', async () => {
    let done = false;
    const holder: { work?: string } = {};
    const { result, output } = await runWith(holder, (e) => {
      if (e.type === 'phase-start' && e.phase === 'reduce' && !done && holder.work) {
        done = true;
        const [first] = shuffleObjects(holder.work, 'merge');
        if (first) corrupt(first);
      }
    });
    expect(done).toBe(true);
    // The merge ran again; no map task needed to.
    expect(result.counters.mapsRerun).toBe(0);
    expect(output).toEqual(countWords(...texts));
  });

  /** A run whose progress listener knows the work folder (set before the run starts). */
  async function runWith(holder: { work?: string }, listener: (e: ProgressEvent) => void) {
    const d = setup();
    for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
    holder.work = join(d.path, 'work');
    const result = await runJob(resolve('jobs/wordcount-js.ts'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: holder.work,
      splitSize: 1024,
      partitions: 3,
      concurrency: 2,
      retryBaseMs: 1,
      mergeFanIn: 4,
      onProgress: listener,
    });
    return { result, output: await readOutput(join(d.path, 'out')) };
  }

  it('takes --merge-fan-in on the command line and refuses 1', () => {
    const d = setup();
    d.file('in/a.txt', texts[0] as string);
    const ok = mr(
      [
        'run',
        resolve('jobs/wordcount.ts'),
        '--input',
        'in',
        '--output',
        'out',
        '--split-size',
        '1KiB',
        '--merge-fan-in',
        '3',
      ],
      d.path,
    );
    expect(ok.stderr).toMatch(/stage 0 merge : \d+ tasks/);
    expect(ok.code).toBe(0);
    // mr status shows the phase from the store.
    const id = /^job (\S+)$/m.exec(ok.stderr)?.[1] as string;
    const status = mr(['status', id], d.path);
    expect(status.stdout).toMatch(
      /^stage 0: map (\d+)\/\1 committed, merge (\d+)\/\2 committed, reduce 8\/8 committed$/m,
    );
    const bad = mr(['run', resolve('jobs/wordcount.ts'), '--input', 'in', '--merge-fan-in', '1'], d.path);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'mr: invalid value "1" for --merge-fan-in: expected 0 (off) or at least 2',
    );
  });
});
