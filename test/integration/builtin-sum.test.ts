/**
 * The reduce side of the built-in `sum` combine adds string keys' values by their bytes (KeySums) and
 * falls back to ordinary combining when a record has another kind of key or value; the map side of
 * `countTokens` with `sum` writes its records from bytes unless the stage has its own partitioner.
 * Every case is checked against results computed directly in the test.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countTokens, defineJob, emitSum, runJob, sum } from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const temp = tempDirs('builtin-sum');

type Pair = [unknown, number];

/** What each input line emits: the test's own function of the line, shared by the job and the oracle. */
function pairsOf(line: string): Pair[] {
  const [word = '', n = '0'] = line.split('\t');
  const v = Number(n);
  const pairs: Pair[] = [[word, v]];
  // Keys longer than a packed one, and non-ASCII ones.
  pairs.push([`${word}-${'long'.repeat(word.length % 4)}`, 1]);
  pairs.push([`café-${word.length % 5}`, 2 ** 33]);
  // Characters JSON escapes.
  pairs.push([`"q\\${word.length % 3}\t\u0001`, 1]);
  return pairs;
}

function oracle(lines: string[], emitted: (line: string) => Pair[]): Map<string, unknown> {
  const sums = new Map<string, number>();
  for (const line of lines) {
    for (const [k, v] of emitted(line)) {
      const id = JSON.stringify(k);
      sums.set(id, (sums.get(id) ?? 0) + v);
    }
  }
  return sums;
}

function text(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    // Values include halves and negatives: sums of these are exact in any order.
    lines.push(`w${(i * 7919) % 97}\t${(i % 5) - 2 + (i % 2) * 0.5}`);
  }
  return lines;
}

async function run(
  emitted: (line: string) => Pair[],
  lines: string[],
  extra: { memoryBudget?: number } = {},
) {
  const dir = temp().path;
  const input = join(dir, 'in.txt');
  writeFileSync(input, `${lines.join('\n')}\n`);
  const job = defineJob({
    name: 'builtin-sum',
    map(line, emit) {
      for (const [k, v] of emitted(line)) emit(k, v);
    },
    combine: sum,
    reduce: emitSum,
    partitions: 3,
  });
  const result = await runJob(job, {
    input: [input],
    output: join(dir, 'out'),
    workDir: join(dir, 'work'),
    splitSize: 1024,
    ...extra,
  });
  return { result, output: await readOutput(join(dir, 'out')) };
}

describe('the built-in sum on the reduce side', () => {
  const lines = text(3000);

  it('sums string keys (short, long, non-ASCII; integer, fractional and large values) exactly', async () => {
    const { output } = await run(pairsOf, lines);
    expect(output).toEqual(oracle(lines, pairsOf));
  });

  it('still sums exactly when some records have number, null or object keys', async () => {
    const mixed = (line: string): Pair[] => {
      const pairs = pairsOf(line);
      const n = line.length;
      if (n % 3 === 0) pairs.push([n, 1]);
      if (n % 7 === 0) pairs.push([null, 3]);
      if (n % 11 === 0) pairs.push([{ len: n % 4 }, 5]);
      return pairs;
    };
    const { output } = await run(mixed, lines);
    expect(output).toEqual(oracle(lines, mixed));
  });

  it('sums exactly when a reduce partition spills sorted runs past the memory budget', async () => {
    const many = (line: string): Pair[] => [...pairsOf(line), [`k${line.length}-${line}`, 1]];
    const { result, output } = await run(many, lines, { memoryBudget: 4096 });
    expect(output).toEqual(oracle(lines, many));
    expect(result.counters.spills).toBeGreaterThan(0);
  });
});

describe('countTokens with sum and a partitioner of the job', () => {
  it('counts exactly and puts each token in the part its partitioner names', async () => {
    const dir = temp().path;
    const text = `${wordText(2000, 400, 3)}caf\u00e9 na\u00efve caf\u00e9\n`;
    writeFileSync(join(dir, 'in.txt'), text);
    const partitioner = (word: string, n: number) => word.length % n;
    const job = defineJob({
      name: 'tokens-by-length',
      map: countTokens,
      combine: sum,
      reduce: emitSum,
      partitions: 4,
      partitioner,
    });
    await runJob(job, {
      input: [join(dir, 'in.txt')],
      output: join(dir, 'out'),
      workDir: join(dir, 'work'),
      splitSize: 4096,
    });
    expect(await readOutput(join(dir, 'out'))).toEqual(countWords(text));
    for (let p = 0; p < 4; p++) {
      const lines = readFileSync(join(dir, 'out', `part-0000${p}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean);
      for (const line of lines) expect(partitioner((JSON.parse(line) as { key: string }).key, 4)).toBe(p);
    }
  });
});
