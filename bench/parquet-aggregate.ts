/**
 * Parquet aggregation benchmark: Big Data Benchmark query 2 (group by the first 8 characters of
 * sourceIP, sum adRevenue) over the uservisits table written as one Parquet file by DuckDB (snappy,
 * DuckDB's row groups of 122,880 rows), the job reading only its two columns
 * (bench/jobs/bdb-q2-parquet.ts), against DuckDB's query on the same file; both as child processes
 * with 2 workers or threads, alternating, every group's sum checked equal (to 1e-9, relative).
 *
 *   npm run bench:parquet -- [--rounds 3] [--size 256] [--split-size 32MiB]
 *
 * A full run appends one JSON line to bench/results/parquet-aggregate.jsonl.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { BenchError, check, median, ROOT, runNode } from './child-run.js';
import { ensureUservisits, type UservisitsManifest } from './uservisits.js';

const CSV = 'bench/data/uservisits';
const PARQUET_DIR = 'bench/data/uservisits-parquet';
const PARQUET = `${PARQUET_DIR}/uservisits.parquet`;
const CONCURRENCY = 2;

/** The CSV's columns, typed as bench/duckdb-q2.ts reads them. */
const COLUMNS = `{'sourceIP': 'VARCHAR', 'destURL': 'VARCHAR', 'visitDate': 'DATE', 'adRevenue': 'DOUBLE',
  'userAgent': 'VARCHAR', 'countryCode': 'VARCHAR', 'languageCode': 'VARCHAR', 'searchWord': 'VARCHAR',
  'duration': 'INTEGER'}`;

/** Writes the table as Parquet once, and again when the CSV it was made from changed. */
async function ensureParquet(csv: UservisitsManifest): Promise<{ bytes: number; made: boolean }> {
  const file = join(ROOT, PARQUET);
  const stamp = join(ROOT, PARQUET_DIR, '_from.json');
  const from = JSON.stringify({ version: csv.version, rows: csv.rows, totalBytes: csv.totalBytes });
  if (existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === from)
    return { bytes: statSync(file).size, made: false };
  mkdirSync(join(ROOT, PARQUET_DIR), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', { threads: String(CONCURRENCY) });
  const db = await instance.connect();
  const glob = join(ROOT, CSV, 'part-*.csv');
  await db.run(
    `COPY (FROM read_csv('${glob}', columns = ${COLUMNS}, header = false, auto_detect = false)) ` +
      `TO '${file}' (FORMAT parquet, COMPRESSION snappy)`,
  );
  db.closeSync();
  instance.closeSync();
  writeFileSync(stamp, from);
  return { bytes: statSync(file).size, made: true };
}

function readFanout(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of readdirSync(dir).filter((n) => /^part-.*\.jsonl$/.test(n))) {
    for (const line of readFileSync(join(dir, part), 'utf8').split('\n')) {
      if (line === '') continue;
      const { key, value } = JSON.parse(line) as { key: string; value: number };
      if (out.has(key)) throw new BenchError(`Fanout wrote key ${JSON.stringify(key)} twice`);
      out.set(key, value);
    }
  }
  return out;
}

function readDuckdb(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    if (line === '') continue;
    const comma = line.lastIndexOf(',');
    out.set(line.slice(0, comma), Number(line.slice(comma + 1)));
  }
  return out;
}

function compare(a: Map<string, number>, b: Map<string, number>): string[] {
  const problems: string[] = [];
  if (a.size !== b.size) problems.push(`groups: mr ${a.size}, duckdb ${b.size}`);
  for (const [k, x] of a) {
    const y = b.get(k);
    if (y === undefined || Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(y))) {
      problems.push(`${k}: mr ${x}, duckdb ${y}`);
      if (problems.length > 5) break;
    }
  }
  return problems;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      size: { type: 'string', default: '256' },
      'split-size': { type: 'string' },
      job: { type: 'string', default: 'bench/jobs/bdb-q2-parquet.ts' },
    },
  });
  const rounds = Number(values.rounds);
  const sizeMiB = Number(values.size);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError('--rounds must be a positive integer');
  if (!(sizeMiB > 0)) throw new BenchError('--size must be a positive number of MiB');
  const { manifest } = ensureUservisits(join(ROOT, CSV), sizeMiB);
  const parquet = await ensureParquet(manifest);
  console.log(
    `table: ${PARQUET}, ${(parquet.bytes / 2 ** 20).toFixed(0)} MiB of Parquet from ${(manifest.totalBytes / 2 ** 20).toFixed(0)} MiB of CSV, ` +
      `${manifest.rows.toLocaleString('en-US')} rows${parquet.made ? ' (written)' : ' (cached)'}`,
  );
  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-parquet-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const times = { mr: [] as number[], duckdb: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    const tmp = mkdtempSync(join(tmpdir(), 'fanout-bench-parquet-'));
    try {
      const runMr = async () => {
        const r = await runNode([
          ...['bin/mr.js', 'run', values.job, '--input', PARQUET, '--output', join(tmp, 'mr')],
          ...['--concurrency', String(CONCURRENCY), '--work', work, '--json', '--quiet'],
          ...(values['split-size'] ? ['--split-size', values['split-size']] : []),
        ]);
        check(`mr run ${values.job}`, r);
        times.mr.push(r.ms);
      };
      const runDuck = async () => {
        const r = await runNode([
          ...['--import', 'tsx', 'bench/duckdb-q2.ts', '--input', PARQUET],
          ...['--output', join(tmp, 'duckdb'), '--threads', String(CONCURRENCY)],
        ]);
        check('duckdb-q2', r);
        times.duckdb.push(r.ms);
      };
      // Alternate which goes first, so neither always meets a warm or a cold page cache.
      const [first, second] = round % 2 === 1 ? [runMr, runDuck] : [runDuck, runMr];
      await first();
      await second();
      console.log(
        `round ${round}: mr ${(times.mr.at(-1) ?? 0) / 1000} s, duckdb ${(times.duckdb.at(-1) ?? 0) / 1000} s`,
      );
      if (round === 1) {
        const problems = compare(readFanout(join(tmp, 'mr')), readDuckdb(join(tmp, 'duckdb', 'q2.csv')));
        if (problems.length > 0) throw new BenchError(`outputs differ: ${problems.join('; ')}`);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const mr = median(times.mr);
  const duck = median(times.duckdb);
  const ratio = +(mr / duck).toFixed(2);
  const mbps = (ms: number) => (parquet.bytes / 1e6 / (ms / 1000)).toFixed(1);
  console.log(
    `median: mr ${(mr / 1000).toFixed(2)} s (${mbps(mr)} MB/s of Parquet)  duckdb ${(duck / 1000).toFixed(2)} s (${mbps(duck)} MB/s)  ratio ${ratio}`,
  );
  if (sizeMiB === 256 && rounds >= 3) {
    appendFileSync(
      join(ROOT, 'bench/results/parquet-aggregate.jsonl'),
      `${JSON.stringify({ date: new Date().toISOString(), job: values.job, cpus: cpus().length, sizeMiB, parquetBytes: parquet.bytes, splitSize: values['split-size'] ?? null, times, ratio })}\n`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof BenchError ? `bench: ${err.message}` : err);
  process.exit(1);
});
