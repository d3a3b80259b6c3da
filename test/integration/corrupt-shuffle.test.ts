import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

/** Every shuffle object of a job's stage 0 in a local work folder. */
function shuffleObjects(work: string): string[] {
  const jobs = join(work, 'jobs');
  const out: string[] = [];
  for (const job of readdirSync(jobs)) {
    const dir = join(jobs, job, 'data', 's0', 'shuffle');
    for (const spread of readdirSync(dir))
      for (const f of readdirSync(join(dir, spread))) if (f.endsWith('.shf')) out.push(join(dir, spread, f));
  }
  return out;
}

describe('a shuffle object that fails its checksum', () => {
  const setup = tempDirs('corrupt');

  it('is never used: the map task that wrote it runs again, and the summary says so', async () => {
    const d = setup();
    const texts = [wordText(400, 60, 31), wordText(400, 60, 32), wordText(400, 60, 33)];
    for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
    const work = join(d.path, 'work');
    let corrupted = '';
    const result = await runJob(resolve('jobs/wordcount-js.ts'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      splitSize: 1024,
      partitions: 2,
      concurrency: 2,
      retryBaseMs: 1,
      onProgress: (e) => {
        // Between the phases, on disk: a byte of the first shuffle object's records changes.
        if (e.type === 'phase-start' && e.phase === 'reduce' && corrupted === '') {
          corrupted = shuffleObjects(work).sort()[0] ?? '';
          const bytes = readFileSync(corrupted);
          bytes[10] = (bytes[10] ?? 0) ^ 0xff;
          writeFileSync(corrupted, bytes);
        }
      },
    });
    expect(corrupted).not.toBe('');
    expect(result.counters.mapsRerun).toBe(1);
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords(...texts));
  });
});
