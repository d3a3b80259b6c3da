/**
 * DuckDB side of the CSV and Parquet aggregation benchmarks (Big Data Benchmark query 2), run as a child
 * process by bench/csv-aggregate.ts and bench/parquet-aggregate.ts so both tools are timed the same
 * way (spawn to exit, output written to disk). An input ending in `.parquet` is read as Parquet.
 *
 *   node --import tsx bench/duckdb-q2.ts --input 'bench/data/uservisits/part-*.csv' --output DIR [--threads 2]
 *
 * Writes DIR/q2.csv (header `prefix,revenue`) and prints one JSON line: { threads, duckdb, groups, ms }.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The table's columns, typed as the benchmark's schema has them; no sniffing. */
const COLUMNS = `{'sourceIP': 'VARCHAR', 'destURL': 'VARCHAR', 'visitDate': 'DATE', 'adRevenue': 'DOUBLE',
  'userAgent': 'VARCHAR', 'countryCode': 'VARCHAR', 'languageCode': 'VARCHAR', 'searchWord': 'VARCHAR',
  'duration': 'INTEGER'}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      threads: { type: 'string', default: '2' },
    },
  });
  if (!values.input || !values.output) {
    console.error('usage: duckdb-q2.ts --input GLOB --output DIR [--threads N]');
    process.exit(2);
  }
  const t0 = performance.now();
  mkdirSync(values.output, { recursive: true });
  const file = join(resolve(values.output), 'q2.csv');
  const instance = await DuckDBInstance.create(':memory:', {
    threads: values.threads,
    preserve_insertion_order: 'false',
  });
  const db = await instance.connect();
  const table = values.input.endsWith('.parquet')
    ? `read_parquet(${sqlString(values.input)})`
    : `read_csv(${sqlString(values.input)}, columns = ${COLUMNS}, header = false, auto_detect = false)`;
  const query = `SELECT substr(sourceIP, 1, 8) AS prefix, sum(adRevenue) AS revenue FROM ${table} GROUP BY prefix`;
  const copied = await db.runAndReadAll(`COPY (${query}) TO ${sqlString(file)} (FORMAT csv, HEADER true)`);
  const groups = Number(copied.getRows()[0]?.[0] ?? -1);
  const version = String((await db.runAndReadAll('SELECT version()')).getRows()[0]?.[0]);
  db.closeSync();
  instance.closeSync();
  console.log(
    JSON.stringify({ threads: Number(values.threads), duckdb: version, groups, ms: performance.now() - t0 }),
  );
}

await main();
