/**
 * How the mapper calls `map`: synchronous maps run a whole batch of lines in one loop, a map that
 * returns a promise is awaited before the next line, and both may mix within one task.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineJob, type Job, runJob, TaskFailedError } from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const temp = tempDirs('map-calls');

const countOf = (emitWords: (line: string, emit: (w: string, n: number) => void) => void | Promise<void>) =>
  defineJob({
    name: 'map-calls',
    map: emitWords,
    reduce(word, counts, emit) {
      let n = 0;
      for (const c of counts) n += c as number;
      emit(word, n);
    },
  });

const words = (line: string, emit: (w: string, n: number) => void) => {
  for (const w of line.split(/\s+/)) if (w) emit(w, 1);
};

async function run(job: Job, text: string) {
  const dir = temp().path;
  const input = join(dir, 'in.txt');
  writeFileSync(input, text);
  const result = await runJob(job, {
    input: [input],
    output: join(dir, 'out'),
    workDir: join(dir, 'work'),
    splitSize: 2048,
    retryBaseMs: 1,
  });
  return { result, output: await readOutput(join(dir, 'out')) };
}

describe('map calls', () => {
  const text = wordText(600, 300, 9);
  const lines = text.split('\n').length - 1;

  it('awaits an async map before the next line, and counts exactly', async () => {
    const order: number[] = [];
    let seq = 0;
    const job = countOf(async (line, emit) => {
      const mine = seq++;
      await new Promise((r) => setTimeout(r, 0));
      order.push(mine);
      words(line, emit);
    });
    const { result, output } = await run(job, text);
    expect(output).toEqual(countWords(text));
    expect(result.counters.inputRecords).toBe(lines);
    // Within a task one line's map settles before the next line's starts.
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('mixes maps that return a promise with maps that do not, and counts exactly', async () => {
    const job = countOf((line, emit) => {
      if (line.length % 3 === 0) return Promise.resolve().then(() => words(line, emit));
      words(line, emit);
    });
    const { result, output } = await run(job, text);
    expect(output).toEqual(countWords(text));
    expect(result.counters.inputRecords).toBe(lines);
  });

  it('fails the task with the cause when an async map rejects, or a sync map throws', async () => {
    for (const map of [
      async (line: string) => {
        if (line.includes('w7 ')) throw new Error('async poison');
      },
      (line: string) => {
        if (line.includes('w7 ')) throw new Error('sync poison');
      },
    ]) {
      const err = await run(countOf(map), text).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as Error).message).toMatch(/map threw: (async|sync) poison/);
    }
  });
});
