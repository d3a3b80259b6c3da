/**
 * Whole jobs writing each output format, read back by DuckDB (Parquet, CSV, gzipped JSONL) or
 * flechette (Arrow) and compared with what the test computes directly from the data it wrote.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineJob, runJob } from '../../src/index.js';
import { arrowRows, duckdbColumns, duckdbRows, sqlString } from '../helpers/read-outputs.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const temp = tempDirs('output-formats');

const wordStage = {
  map(line: string, emit: (k: string, v: number) => void) {
    for (const w of line.split(/\s+/)) if (w) emit(w, 1);
  },
  reduce(word: string, counts: Iterable<number>, emit: (k: string, v: number) => void) {
    let n = 0;
    for (const c of counts) n += c;
    emit(word, n);
  },
};
const wordcount = defineJob({ name: 'wc', ...wordStage });
/** The counts as countWords keys them: by the key's JSON. */
const keyed = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [JSON.stringify(r.key), r.value]));

const parts = (dir: string, ext: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(ext))
    .map((n) => join(dir, n));

describe('output formats', () => {
  it('a reduce writes Parquet with declared int64 counts that DuckDB sums to the oracle', async () => {
    const d = temp();
    const text = wordText(4000, 500, 3);
    d.file('in/a.txt', text);
    const job = defineJob({
      ...wordStage,
      name: 'wc-pq',
      output: { format: 'parquet', columns: { key: 'string', value: 'int64' } },
    });
    await runJob(job, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      partitions: 4,
    });
    const from = `read_parquet(${sqlString(join(d.path, 'out', '*.parquet'))})`;
    expect(await duckdbColumns(from)).toEqual({ key: 'VARCHAR', value: 'BIGINT' });
    const got = await duckdbRows(`SELECT key, value FROM ${from}`);
    expect(keyed(got)).toEqual(countWords(text));
    expect(parts(join(d.path, 'out'), '.parquet').length).toBe(4);
    expect(existsSync(join(d.path, 'out', '_SUCCESS'))).toBe(true);
  });

  it('--output-format arrow (a run option) over a JSONL job; flechette reads every count', async () => {
    const d = temp();
    const text = wordText(2000, 300, 5);
    d.file('in/a.txt', text);
    await runJob(wordcount, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      outputFormat: 'arrow',
    });
    const rows = arrowRows(parts(join(d.path, 'out'), '.arrow'));
    expect(keyed(rows)).toEqual(countWords(text));
  });

  it('a map-only stage writes gzipped CSV that DuckDB reads as the records map emitted', async () => {
    const d = temp();
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ id: i, user: i % 5 ? `u,${i % 11}` : null, ms: i * 3 }),
    );
    d.file('in/a.jsonl', `${lines.slice(0, 1500).join('\n')}\n`);
    d.file('in/b.jsonl', `${lines.slice(1500).join('\n')}\n`);
    const job = defineJob({
      name: 'clean-csv',
      input: { format: 'jsonl' },
      output: {
        format: 'csv',
        compression: 'gzip',
        columns: { id: 'int64', user: 'string', seconds: 'double' },
      },
      map(r, emit) {
        const e = r as { id: number; user: string | null; ms: number };
        emit({ id: e.id, user: e.user, seconds: e.ms / 1000 });
      },
    });
    await runJob(job, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 8192,
    });
    const files = parts(join(d.path, 'out'), '.csv.gz');
    expect(files.length).toBeGreaterThan(1);
    const got = await duckdbRows(
      `SELECT id, user, seconds FROM read_csv(${sqlString(join(d.path, 'out', '*.csv.gz'))}, header = true, types = {'id': 'BIGINT', 'user': 'VARCHAR', 'seconds': 'DOUBLE'}) ORDER BY id`,
    );
    expect(got).toEqual(
      lines.map((l) => {
        const e = JSON.parse(l) as { id: number; user: string | null; ms: number };
        return { id: e.id, user: e.user, seconds: e.ms / 1000 };
      }),
    );
  });

  it('fails the job, leaving no _SUCCESS, when parts infer different columns', async () => {
    const d = temp();
    d.file('in/a.jsonl', '{"v":1}\n');
    d.file('in/b.jsonl', '{"v":"one"}\n');
    const job = defineJob({
      name: 'mixed',
      input: { format: 'jsonl' },
      output: { format: 'parquet' },
      map(r, emit) {
        emit(r);
      },
    });
    const err = await runJob(job, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 4,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /part files would have different columns: part-m-0000\d\.parquet has v:(double|string), part-m-0000\d\.parquet has v:(double|string); declare output.columns/,
    );
    expect(existsSync(join(d.path, 'out', '_SUCCESS'))).toBe(false);
  });

  it('refuses gzip for Parquet in one line before running anything', async () => {
    const d = temp();
    d.file('in/a.txt', 'a b\n');
    await expect(
      runJob(defineJob({ ...wordStage, name: 'pqgz', output: { format: 'parquet' } }), {
        input: [join(d.path, 'in')],
        output: join(d.path, 'out'),
        workDir: join(d.path, 'work'),
        outputCompression: 'gzip',
      }),
    ).rejects.toThrow(
      "output: parquet part files compress their own pages; compression 'gzip' is for jsonl and csv",
    );
    expect(existsSync(join(d.path, 'out'))).toBe(false);
  });
});
