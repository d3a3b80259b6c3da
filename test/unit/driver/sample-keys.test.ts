import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listInputs } from '../../../src/driver/list-inputs.js';
import { planMapInputs } from '../../../src/driver/plan-splits.js';
import { sampleKeys } from '../../../src/driver/sample-keys.js';
import { sniffCompression } from '../../../src/driver/sniff-compression.js';
import { defineJob } from '../../../src/job/define-job.js';
import type { InputSpec, StageDefinition } from '../../../src/job/types.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('sample-keys');

/** A stage that emits each record as it is: a text line, or a parsed JSON or CSV record. */
const echo = defineJob({
  name: 'echo',
  map(record, emit) {
    emit(record as string, 1);
  },
  reduce() {},
}).stages[0] as StageDefinition;

const lines = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `k-${String(from + i).padStart(5, '0')}`);

/** The keys `stage` emits for about `count` records of the files in `dir`, planned at `splitSize`. */
async function sample(
  dir: string,
  count: number,
  splitSize: number,
  stage = echo,
  input: InputSpec = { format: 'text' },
) {
  const objects = await sniffCompression(await listInputs([dir]), splitSize);
  return sampleKeys(stage, input, planMapInputs(objects, splitSize), count, { jobId: 'j', stage: 0 });
}

describe('sampleKeys', () => {
  it('reads from across the whole input, however it is ordered, so its keys span every range', async () => {
    const d = temp();
    const all = lines(20_000); // sorted: a sample from the start alone would say nothing of the rest
    d.file('in/sorted.txt', `${all.join('\n')}\n`);
    const { records, keys } = await sample(`${d.path}/in`, 1000, 16 * 1024);
    expect(records).toBeGreaterThanOrEqual(1000);
    expect(keys).toHaveLength(records);
    // Each tenth of the input holds about a tenth of the sample.
    const tenths = Array.from({ length: 10 }, () => 0);
    for (const k of keys as string[]) (tenths[Math.floor(Number(k.slice(2)) / 2000)] as number)++;
    for (const t of tenths) expect(Math.abs(t / records - 0.1)).toBeLessThan(0.02);
  });

  it('never reads a record twice, however small the input is against the sample', async () => {
    const d = temp();
    d.file('in/a.txt', `${lines(300).join('\n')}\n`);
    d.file('in/b.txt', `${lines(200, 300).join('\n')}`); // no final newline
    const { records, keys } = await sample(`${d.path}/in`, 10_000, 1024);
    expect(new Set(keys).size).toBe(keys.length);
    expect(records).toBeLessThanOrEqual(500);
    // Windows that end where the next begins miss at most the line straddling each boundary.
    expect(records).toBeGreaterThan(400);
    const known = new Set(lines(500));
    for (const k of keys) expect(known.has(k as string)).toBe(true);
  });

  it('takes the records of a compressed file from its start, as it cannot be entered mid-way', async () => {
    const d = temp();
    d.file('in/a.txt.gz', gzipSync(`${lines(5000).join('\n')}\n`));
    // Named as text, larger than a split: planning reads its first bytes and keeps it whole.
    d.file('in/b.log', gzipSync(`${lines(5000, 5000).join('\n')}\n`));
    const { keys } = await sample(`${d.path}/in`, 400, 1024);
    expect(keys).toHaveLength(400);
    expect(keys.filter((k) => (k as string) < 'k-05000')).toEqual(lines(200));
    expect(keys.filter((k) => (k as string) >= 'k-05000')).toEqual(lines(200, 5000));
  });

  it('maps CSV rows by their header, which is no record, and JSON lines as parsed', async () => {
    const d = temp();
    d.file(
      'csv/a.csv',
      `name,n\n${lines(50)
        .map((l, i) => `${l},${i}`)
        .join('\n')}\n`,
    );
    const byName = defineJob({
      name: 'by-name',
      input: { format: 'csv', header: true },
      map(row, emit) {
        emit(row.name, Number(row.n));
      },
      reduce() {},
    });
    const csv = await sample(`${d.path}/csv`, 100, 64 * 1024, byName.stages[0], byName.input);
    expect(csv.keys).toEqual(lines(50));
    d.file(
      'jsonl/a.jsonl',
      `${lines(20)
        .map((l) => JSON.stringify({ id: l }))
        .join('\n')}\n`,
    );
    const byId = defineJob({
      name: 'by-id',
      input: { format: 'jsonl' },
      map(doc, emit) {
        emit((doc as { id: string }).id, 1);
      },
      reduce() {},
    });
    const jsonl = await sample(`${d.path}/jsonl`, 100, 64 * 1024, byId.stages[0], byId.input);
    expect(jsonl.keys).toEqual(lines(20));
  });

  it('leaves out lines the format refuses and records the map throws on: the map tasks will say so', async () => {
    const d = temp();
    d.file('in/a.jsonl', ['{"k":"a"}', '{not json', '{"k":"throw"}', '{"k":"b"}', ''].join('\n'));
    const picky = defineJob({
      name: 'picky',
      input: { format: 'jsonl' },
      map(doc, emit) {
        const k = (doc as { k: string }).k;
        emit(`${k}-first`, 1);
        if (k === 'throw') throw new Error('no');
        emit(k, 1);
      },
      reduce() {},
    });
    const { records, keys } = await sample(`${d.path}/in`, 100, 1024, picky.stages[0], picky.input);
    expect(records).toBe(3);
    expect(keys).toEqual(['a-first', 'a', 'b-first', 'b']);
  });

  it('finds nothing in empty input', async () => {
    const d = temp();
    d.file('in/empty.txt', '');
    expect(await sample(`${d.path}/in`, 100, 1024)).toEqual({ records: 0, keys: [] });
  });
});
