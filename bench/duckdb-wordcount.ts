/**
 * DuckDB side of the word-count benchmark, run as a child process by bench/wordcount.ts so that both
 * tools are timed the same way (spawn to exit, output written to disk).
 *
 *   node --import tsx bench/duckdb-wordcount.ts --input 'bench/data/wordcount/part-*.txt' --output DIR
 *     [--threads 2] [--variant csv-exact]
 *
 * Writes DIR/counts.csv (header `word,count`) and prints one JSON line:
 * { variant, threads, duckdb, words, ms }.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * The input files as one VARCHAR column `line` per text line: no header, quoting, escaping or sniffing.
 * The column delimiter is \u0001, a byte text does not hold (a tab would split lines that contain one);
 * strict_mode off lets a line hold a lone '\r' or a vertical tab.
 */
const lines = (glob: string): string =>
  `read_csv(${sqlString(glob)}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
     delim = '\u0001', quote = '', escape = '', new_line = '\\n', strict_mode = false)`;

/** ASCII whitespace that can sit inside a line, besides ' ' ('\n' ends the line before DuckDB sees it). */
const SPACES = ['\t', '\v', '\f', '\r'];

/** `line` with every other ASCII space turned into ' ', touching only the lines that have one. */
const spacesToBlank = (): string =>
  `CASE WHEN ${SPACES.map((c) => `contains(line, ${sqlString(c)})`).join(' OR ')}
     THEN ${SPACES.reduce((e, c) => `replace(${e}, ${sqlString(c)}, ' ')`, 'line')} ELSE line END`;

/**
 * Ways to get one row per token; the query around them drops empty tokens.
 *
 * - `csv-exact` (the default, and the ratio to judge by): the job's rule, /\s+/, on any ASCII text. Lines
 *   with a tab, \v, \f or \r have them replaced by ' ' first, then every line is split on ' '. It differs
 *   from JavaScript's /\s/ only on Unicode spaces (U+00A0, U+2000-U+200A, ...).
 * - `csv-split` (fastest) splits on ' ' only, which is right for this corpus alone: it holds lowercase
 *   letters and single spaces (see bench/corpus.ts). On text with a tab it counts "a\tb" as one word.
 * - `csv-regex`: string_split_regex(line, '\s+'), the obvious query, but RE2's \s lacks \v.
 *
 * Timings seen on the 256 MiB corpus (2 threads, whole child process, CSV output):
 *   csv-split ~1.8 s; csv-exact ~1.9 s; csv-regex ~3.9-4.3 s; the same guard with regexp_matches and
 *   regexp_replace ~2.2 s; replace() on every line without the guard ~2.8 s; translate() of the four
 *   ASCII spaces ~3.4 s, of every Unicode space ~5.1 s; regexp_split_to_table(line, ' ') ~3.8-5.7 s;
 *   16 nullable columns read with delim ' ' then unnest([c0..c15]) or UNPIVOT ~2.5 s;
 *   read_text (one value per file) with string_split / string_split_regex / regexp_extract_all:
 *   ~1.1-1.4 s on 16 MiB but 292 s on 256 MiB (unnesting a multi-million-element list per file), dropped.
 */
const VARIANTS: Record<string, (glob: string) => string> = {
  'csv-exact': (glob) => `SELECT unnest(string_split(${spacesToBlank()}, ' ')) AS word FROM ${lines(glob)}`,
  'csv-split': (glob) => `SELECT unnest(string_split(line, ' ')) AS word FROM ${lines(glob)}`,
  'csv-regex': (glob) => `SELECT unnest(string_split_regex(line, '\\s+')) AS word FROM ${lines(glob)}`,
};

const DEFAULT_VARIANT = 'csv-exact';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      threads: { type: 'string', default: '2' },
      variant: { type: 'string', default: DEFAULT_VARIANT },
    },
  });
  const tokens = values.variant ? VARIANTS[values.variant] : undefined;
  if (!values.input || !values.output || !tokens) {
    console.error(
      `usage: duckdb-wordcount.ts --input GLOB --output DIR [--threads N] [--variant ${Object.keys(VARIANTS).join('|')}]`,
    );
    process.exit(2);
  }
  const t0 = performance.now();
  mkdirSync(values.output, { recursive: true });
  const file = join(resolve(values.output), 'counts.csv');
  const instance = await DuckDBInstance.create(':memory:', {
    threads: values.threads,
    preserve_insertion_order: 'false',
  });
  const db = await instance.connect();
  const query = `SELECT word, count(*) AS count FROM (${tokens(values.input)}) WHERE word <> '' GROUP BY word`;
  const copied = await db.runAndReadAll(`COPY (${query}) TO ${sqlString(file)} (FORMAT csv, HEADER true)`);
  const words = Number(copied.getRows()[0]?.[0] ?? -1);
  const version = String((await db.runAndReadAll('SELECT version()')).getRows()[0]?.[0]);
  db.closeSync();
  instance.closeSync();
  console.log(
    JSON.stringify({
      variant: values.variant,
      threads: Number(values.threads),
      duckdb: version,
      words,
      ms: performance.now() - t0,
    }),
  );
}

await main();
