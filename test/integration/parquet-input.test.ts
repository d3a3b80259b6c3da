/**
 * Parquet input end to end on the local backend: DuckDB writes the files (several, in small row
 * groups, snappy, gzip and zstd), splits of a few KiB cut through them, and the output is compared
 * with an oracle computed from the rows the test generated.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, type Job, rangePartitioner, runJob } from '../../src/index.js';
import { Rng } from '../helpers/factories.js';
import { writeParquet } from '../helpers/parquet-files.js';
import { readOutput } from '../helpers/read-output.js';
import { runMr } from '../helpers/run-mr.js';
import { tempDir, tempDirs } from '../helpers/temp.js';

/** One generated row, as the test knows it. */
interface Row {
  id: number;
  big: bigint;
  country: string | null;
  amountCents: number | null;
  /** Days since 1970-01-01. */
  day: number;
  /** Milliseconds since 1970-01-01T00:00:00Z. */
  ts: number;
  tags: number[] | null;
  note: string;
}

const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR', 'IN'];
const FILES = [
  { name: 'a.parquet', compression: 'snappy', rows: 9000 },
  { name: 'b.parquet', compression: 'gzip', rows: 7000 },
  { name: 'c.parquet', compression: 'zstd', rows: 8000 },
] as const;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function makeRows(rng: Rng, first: number, n: number): Row[] {
  return Array.from({ length: n }, (_, k) => {
    const id = first + k;
    // Every fifth past 2^53 (some below -2^53), the rest small: both sides of the number/string line.
    const big =
      id % 5 === 0
        ? (id % 2 === 0 ? 1n : -1n) * (MAX_SAFE + BigInt(rng.int(1, 1e9)))
        : BigInt(rng.int(-1e6, 1e6));
    return {
      id,
      big,
      country: rng.chance(0.1) ? null : rng.pick(COUNTRIES),
      amountCents: rng.chance(0.05) ? null : rng.int(1, 100_000),
      day: rng.int(-400, 30_000),
      ts: rng.int(0, 2_000_000_000) * 1000 + rng.int(0, 999),
      tags: rng.chance(0.1) ? null : Array.from({ length: rng.int(0, 3) }, () => rng.int(0, 99)),
      note: `n${'x'.repeat(rng.int(0, 40))}${id}`,
    };
  });
}

const isoDay = (days: number) => new Date(days * 86_400_000).toISOString().slice(0, 10);
/** DuckDB's TIMESTAMP text: no zone, read as UTC. */
const sqlTs = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** A row as the record `map` should receive with every column but `note` read. */
function expectedRecord(r: Row): Record<string, unknown> {
  return {
    id: r.id,
    big: r.big >= -MAX_SAFE && r.big <= MAX_SAFE ? Number(r.big) : r.big.toString(),
    country: r.country,
    amount: r.amountCents === null ? null : r.amountCents / 100,
    day: isoDay(r.day),
    ts: new Date(r.ts).toISOString(),
    tags: r.tags,
  };
}

const COLUMNS = {
  id: 'BIGINT',
  big: 'VARCHAR',
  country: 'VARCHAR',
  amount: 'DOUBLE',
  day: 'DATE',
  ts: 'TIMESTAMP',
  tags: 'INTEGER[]',
  note: 'VARCHAR',
};
const SELECT = 'id, big::BIGINT AS big, country, amount, day, ts, tags, note';

const input = tempDir('parquet-input');
const byFile = new Map<string, Row[]>();
const rows: Row[] = [];

beforeAll(async () => {
  const rng = new Rng(4242);
  for (const f of FILES) {
    const made = makeRows(rng, rows.length, f.rows);
    byFile.set(f.name, made);
    rows.push(...made);
    const json = made.map((r) => ({
      id: r.id,
      big: r.big.toString(),
      country: r.country,
      amount: r.amountCents === null ? null : r.amountCents / 100,
      day: isoDay(r.day),
      ts: sqlTs(r.ts),
      tags: r.tags,
      note: r.note,
    }));
    await writeParquet(join(input.path, 'in', f.name), json, COLUMNS, {
      compression: f.compression,
      select: SELECT,
    });
  }
}, 60_000);
afterAll(() => input.cleanup());

const temp = tempDirs('parquet-run');

async function run(job: Job, dirs: string[] = [join(input.path, 'in')]) {
  const dir = temp().path;
  const result = await runJob(job, {
    input: dirs,
    output: join(dir, 'out'),
    workDir: join(dir, 'work'),
    splitSize: 16 * 1024,
    concurrency: 2,
    maxAttempts: 1,
  });
  return { result, out: join(dir, 'out') };
}

describe('parquet input', { timeout: 120_000 }, () => {
  it('writes files of many row groups, larger than a split (what the tests below rely on)', async () => {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    for (const f of FILES) {
      const path = join(input.path, 'in', f.name);
      const groups = (
        await db.runAndReadAll(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${path}')`)
      ).getRows()[0]?.[0];
      expect(Number(groups), f.name).toBeGreaterThanOrEqual(3);
      expect((await readFile(path)).length, f.name).toBeGreaterThan(3 * 16 * 1024);
    }
    db.closeSync();
  });

  it('maps every row exactly once, with its values mapped to JSON', async () => {
    const job = defineJob({
      name: 'pq-identity',
      input: { format: 'parquet', columns: ['id', 'big', 'country', 'amount', 'day', 'ts', 'tags'] },
      map(r, emit) {
        emit(String(r.id), r as never);
      },
      reduce(id, records, emit) {
        emit(id, [...records]);
      },
    });

    const { result, out } = await run(job);

    const want = new Map(rows.map((r) => [JSON.stringify(String(r.id)), [expectedRecord(r)]]));
    expect(await readOutput(out)).toEqual(want);
    expect(result.counters.inputRecords).toBe(rows.length);
    // Splits cut through the files: more map tasks than files, some owning no row group.
    expect(result.counters.tasks).toBeGreaterThan(FILES.length * 3);
  });

  it('decodes only the named columns: records hold those and no other', async () => {
    const job = defineJob({
      name: 'pq-projection',
      input: { format: 'parquet', columns: ['country', 'amount'] },
      map(r, emit) {
        emit(`fields ${Object.keys(r).sort().join(',')}`, 1);
        emit(`cents ${String(r.country)}`, r.amount === null ? 0 : Math.round((r.amount as number) * 100));
      },
      combine: (_k: string, vs: number[]) => vs.reduce((a, b) => a + b, 0),
      reduce(k, vs, emit) {
        let n = 0;
        for (const v of vs) n += v;
        emit(k, n);
      },
    });

    const { result, out } = await run(job);

    const want = new Map<string, number>([[JSON.stringify('fields amount,country'), rows.length]]);
    for (const r of rows) {
      const k = JSON.stringify(`cents ${String(r.country)}`);
      want.set(k, (want.get(k) ?? 0) + (r.amountCents ?? 0));
    }
    expect(await readOutput(out)).toEqual(want);
    expect(result.counters.inputRecords).toBe(rows.length);
  });

  it('reads every column when none are named', async () => {
    const job = defineJob({
      name: 'pq-all-columns',
      input: { format: 'parquet' },
      map(r, emit) {
        emit(Object.keys(r).join(','), 1);
      },
      reduce(k, vs, emit) {
        let n = 0;
        for (const v of vs) n += v as number;
        emit(k, n);
      },
    });

    const { out } = await run(job);

    expect(await readOutput(out)).toEqual(
      new Map([[JSON.stringify('id,big,country,amount,day,ts,tags,note'), rows.length]]),
    );
  });

  it('samples parquet input for a range partitioner: parts ordered, every row once', async () => {
    const job = defineJob({
      name: 'pq-sorted',
      input: { format: 'parquet', columns: ['id'] },
      map(r, emit) {
        emit(r.id as number, 1);
      },
      reduce(id, ones, emit) {
        emit(id, [...ones].length);
      },
      partitions: 4,
      ...rangePartitioner({ sample: 400 }),
    });

    const { out } = await run(job);

    const parts = (await readdir(out)).filter((n) => /^part-\d{5}\.jsonl$/.test(n)).sort();
    const ids = await Promise.all(
      parts.map(async (p) =>
        (await readFile(join(out, p), 'utf8'))
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => (JSON.parse(l) as { key: number; value: number }).key),
      ),
    );
    expect(ids.flat()).toEqual(rows.map((r) => r.id));
    // The sample made split points: the rows are spread over the parts, not all in one.
    expect(ids.filter((p) => p.length > rows.length / 8).length).toBeGreaterThanOrEqual(3);
    expect(await readOutput(out)).toEqual(new Map(rows.map((r) => [String(r.id), 1])));
  });

  it('names the file, row group and row where a map throws', async () => {
    const b = byFile.get('b.parquet') as Row[];
    const poison = (b[5000] as Row).id;
    const job = defineJob({
      name: 'pq-throws',
      input: { format: 'parquet', columns: ['id'] },
      map(r) {
        if (r.id === poison) throw new Error('poison row');
      },
      reduce() {},
    });

    const failed = run(job);

    await expect(failed).rejects.toThrow(/map threw: poison row \(.*\/b\.parquet row group \d+ row 5000\)/);
  });

  it('refuses an object that is not Parquet in one line naming it', async () => {
    const d = temp();
    d.file('notes.parquet', 'order_id,country\n1,DE\n'.repeat(20));

    const failed = run(
      defineJob({
        name: 'pq-not-parquet',
        input: { format: 'parquet' },
        map() {},
        reduce() {},
      }),
      [join(input.path, 'in', 'a.parquet'), join(d.path, 'notes.parquet')],
    );

    await expect(failed).rejects.toThrow(
      /^[^\n]*notes\.parquet is not a Parquet file \(it does not end in PAR1\)[^\n]*$/,
    );
  });

  it('names a column the file does not have, and the columns it has', async () => {
    const failed = run(
      defineJob({
        name: 'pq-no-column',
        input: { format: 'parquet', columns: ['id', 'nope'] },
        map() {},
        reduce() {},
      }),
    );

    await expect(failed).rejects.toThrow(
      /parquet column "nope" is not in .*\/a\.parquet, whose columns are: id, big, country, amount, day, ts, tags, note/,
    );
  });

  it('plans a parquet job with mr plan, cutting files into splits', () => {
    const r = runMr([
      ...['plan', 'jobs/parquet-revenue.ts', '--input', join(input.path, 'in'), '--split-size', '16KiB'],
      '--json',
    ]);

    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { stages: { mapTasks: number }[] };
    expect(plan.stages[0]?.mapTasks).toBeGreaterThan(FILES.length * 3);
  });
});
