/**
 * CSV aggregation benchmark: Big Data Benchmark query 2 (group by the first 8 characters of column 0,
 * sum column 3 as a number) written as a user would (bench/jobs/bdb-q2.ts), against DuckDB's query on
 * the same generated table (bench/uservisits.ts), both as child processes with 2 workers or threads,
 * alternating, every group's sum checked equal (to 1e-9, relative: the two add in different orders).
 *
 *   npm run bench:csv -- [--rounds 3] [--size 256] [--job bench/jobs/bdb-q2.ts]
 *
 * A full run appends one JSON line to bench/results/csv-aggregate.jsonl.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError, check, median, ROOT, runNode } from './child-run.js';
import { ensureUservisits } from './uservisits.js';

const INPUT = 'bench/data/uservisits';
const CONCURRENCY = 2;

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
    // Prefixes are digits and dots: no CSV quoting to undo.
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
      job: { type: 'string', default: 'bench/jobs/bdb-q2.ts' },
    },
  });
  const rounds = Number(values.rounds);
  const sizeMiB = Number(values.size);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError('--rounds must be a positive integer');
  if (!(sizeMiB > 0)) throw new BenchError('--size must be a positive number of MiB');
  const { manifest, generated } = ensureUservisits(join(ROOT, INPUT), sizeMiB);
  console.log(
    `table: ${INPUT}, ${manifest.files.length} files, ${(manifest.totalBytes / 2 ** 20).toFixed(0)} MiB, ` +
      `${manifest.rows.toLocaleString('en-US')} rows${generated ? ' (generated)' : ' (cached)'}`,
  );
  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-csv-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const times = { mr: [] as number[], duckdb: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    const tmp = mkdtempSync(join(tmpdir(), 'fanout-bench-csv-'));
    try {
      const runMr = async () => {
        const r = await runNode([
          'bin/mr.js',
          'run',
          values.job,
          '--input',
          INPUT,
          '--output',
          join(tmp, 'mr'),
          '--concurrency',
          String(CONCURRENCY),
          '--work',
          work,
          '--json',
          '--quiet',
        ]);
        check(`mr run ${values.job}`, r);
        times.mr.push(r.ms);
        return r.ms;
      };
      const runDuck = async () => {
        const r = await runNode([
          '--import',
          'tsx',
          'bench/duckdb-q2.ts',
          '--input',
          `${INPUT}/part-*.csv`,
          '--output',
          join(tmp, 'duckdb'),
          '--threads',
          String(CONCURRENCY),
        ]);
        check('duckdb-q2', r);
        times.duckdb.push(r.ms);
        return r.ms;
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
  const mbps = (ms: number) => (manifest.totalBytes / 1e6 / (ms / 1000)).toFixed(1);
  console.log(
    `median: mr ${(mr / 1000).toFixed(2)} s (${mbps(mr)} MB/s)  duckdb ${(duck / 1000).toFixed(2)} s (${mbps(duck)} MB/s)  ratio ${ratio}`,
  );
  if (sizeMiB === 256 && rounds >= 3) {
    appendFileSync(
      join(ROOT, 'bench/results/csv-aggregate.jsonl'),
      `${JSON.stringify({ date: new Date().toISOString(), job: values.job, cpus: cpus().length, sizeMiB, times, ratio })}\n`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof BenchError ? `bench: ${err.message}` : err);
  process.exit(1);
});
