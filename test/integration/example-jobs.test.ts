/**
 * Runs each example job in `jobs/` on the local backend over generated input, and over its sample
 * data, and compares its output with an oracle computed in plain JS (test/helpers/example-oracles.ts).
 * The oracles work from the factories' structured records (tokens, request fields, order amounts,
 * document terms; for sort, the records themselves, sorted here), never by parsing the generated text the way the job does, and never from the
 * engine's own earlier output.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordsText } from '../../bench/sort-gen.js';
import { runJob } from '../../src/index.js';
import { EXAMPLE_JOBS } from '../helpers/chaos.js';
import {
  countBy,
  invertedIndex,
  keyed,
  revenueByCountry,
  sampleOracle,
  topUrls,
  wordCounts,
} from '../helpers/example-oracles.js';
import {
  type AccessLogEntry,
  accessLogEntry,
  type Doc,
  doc,
  docJsonLine,
  formatAccessLog,
  joinLines,
  longWordLine,
  MULTIBYTE_WORDS,
  ORDER_CSV_HEADER,
  type Order,
  order,
  orderCsvRow,
  Rng,
  type WordLine,
  wordLine,
} from '../helpers/factories.js';
import { writeOrdersParquet } from '../helpers/parquet-files.js';
import { readOutput } from '../helpers/read-output.js';
import { duckdbColumns, duckdbRows, sqlString } from '../helpers/read-outputs.js';
import { makeSample } from '../helpers/samples.js';

type Files = Record<string, string | Buffer>;

const jobPath = (name: string): string => fileURLToPath(new URL(`../../jobs/${name}.ts`, import.meta.url));

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fanout-example-jobs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `files` into a fresh input directory and runs the job over it; returns its output folder. */
async function runJobOver(job: string, files: Files, splitSize: number) {
  const dir = await mkdtemp(join(root, `${job}-`));
  const input = join(dir, 'input');
  await mkdir(input);
  for (const [name, content] of Object.entries(files)) await writeFile(join(input, name), content);
  const outDir = join(dir, 'out');
  const result = await runJob(jobPath(job), {
    input: [input],
    output: outDir,
    splitSize,
    concurrency: 2,
    workDir: join(dir, 'work'),
  });
  return { result, outDir };
}

/** As runJobOver, with the output read by readOutput. */
async function runOver(job: string, files: Files, splitSize = 1024) {
  const { result, outDir } = await runJobOver(job, files, splitSize);
  return { result, output: await readOutput(outDir) };
}

/** As runJobOver, with the output read as the records of each part file, in order. */
async function runOverParts(job: string, files: Files, splitSize: number) {
  const { result, outDir } = await runJobOver(job, files, splitSize);
  return { result, output: await partRecords(outDir) };
}

/** A job's part files in name order, each its records `key + value` in file order. */
async function partRecords(dir: string): Promise<string[][]> {
  const names = (await readdir(dir)).filter((n) => /^part-\d{5}\.jsonl$/.test(n)).sort();
  return Promise.all(
    names.map(async (n) =>
      (await readFile(join(dir, n), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const { key, value } = JSON.parse(l) as { key: string; value: string };
          return key + value;
        }),
    ),
  );
}

/** Records in `LC_ALL=C sort` order of their 10-byte keys, records of one key in their input order. */
const sortedByKey = (records: string[]): string[] =>
  records
    .map((r, i) => [r, i] as const)
    .sort(([a, i], [b, j]) =>
      a.slice(0, 10) < b.slice(0, 10) ? -1 : a.slice(0, 10) > b.slice(0, 10) ? 1 : i - j,
    )
    .map(([r]) => r);

describe('example jobs on the local backend', { timeout: 120_000 }, () => {
  // wordcount counts over bytes (the built-in countTokens with sum); wordcount-js calls its map per
  // line. Both must agree with the same oracle.
  describe.each(['wordcount', 'wordcount-js'])('%s', (job) => {
    it('counts every token across plain, gzip, CRLF, unterminated, empty and over-long files', async () => {
      const rng = new Rng(101);
      const lines = (n: number) => Array.from({ length: n }, () => wordLine(rng));
      const plain = lines(300);
      const gzipped = lines(200);
      const crlf = lines(150);
      const unterminated = [...lines(80), wordLine(rng, 14, 1)];
      const withLong = [...lines(5), longWordLine(rng, 3000), ...lines(5)];
      const text = (ls: WordLine[]) => ls.map((l) => l.text);
      const files: Files = {
        'plain.txt': joinLines(text(plain)),
        'archive.txt.gz': gzipSync(joinLines(text(gzipped))),
        'crlf.txt': joinLines(text(crlf), { eol: '\r\n' }),
        'no-final-newline.txt': joinLines(text(unterminated), { finalNewline: false }),
        'long-line.txt': joinLines(text(withLong)),
        'empty.txt': '',
      };
      const all = [...plain, ...gzipped, ...crlf, ...unterminated, ...withLong];

      const { result, output } = await runOver(job, files);

      expect(output).toEqual(wordCounts(all));
      expect(result.counters.inputRecords).toBe(all.length);
      expect(result.counters.outputRecords).toBe(output.size);
    });

    it('reads gzip and Brotli whatever their names: gzip named as text, two gzip members, .br', async () => {
      const rng = new Rng(102);
      const lines = (n: number) => Array.from({ length: n }, () => wordLine(rng));
      const text = (ls: WordLine[]) => ls.map((l) => l.text);
      const disguised = lines(300);
      const small = lines(3);
      const [first, second] = [lines(120), lines(90)];
      const brotli = lines(250);
      const plain = lines(40);
      const files: Files = {
        // Larger than a split: planning reads its first bytes and keeps it one split.
        'disguised.txt': gzipSync(joinLines(text(disguised))),
        // Smaller than a split: packed with the others, the map task looks into it as it opens it.
        'small.log': gzipSync(joinLines(text(small))),
        'two-members.txt.gz': Buffer.concat([
          gzipSync(joinLines(text(first))),
          gzipSync(joinLines(text(second))),
        ]),
        'archive.txt.br': brotliCompressSync(joinLines(text(brotli))),
        'plain.txt': joinLines(text(plain)),
      };
      const all = [...disguised, ...small, ...first, ...second, ...brotli, ...plain];
      expect((files['disguised.txt'] as Buffer).length).toBeGreaterThan(1024);
      expect((files['small.log'] as Buffer).length).toBeLessThan(1024);

      const { result, output } = await runOver(job, files);

      expect(output).toEqual(wordCounts(all));
      expect(result.counters.inputRecords).toBe(all.length);
    });

    it.each([7, 64, 1000])('counts multi-byte UTF-8 tokens with splits of %i bytes', async (splitSize) => {
      const rng = new Rng(202);
      const lines = Array.from({ length: 24 }, () =>
        Array.from({ length: rng.int(1, 6) }, () => rng.pick(MULTIBYTE_WORDS)),
      );
      const files: Files = {
        'a.txt': joinLines(lines.slice(0, 12).map((l) => l.join(' '))),
        'b.txt': joinLines(
          lines.slice(12).map((l) => l.join('\t')),
          { eol: '\r\n', finalNewline: false },
        ),
      };

      const { result, output } = await runOver(job, files, splitSize);

      expect(output).toEqual(keyed(countBy(lines.flat(), (t) => t)));
      expect(result.counters.inputRecords).toBe(lines.length);
      expect(result.counters.outputRecords).toBe(output.size);
    });
  });

  describe('top-urls', () => {
    const at = (i: number) => new Date(Date.UTC(2024, 5, 1) + i * 1000);
    const lines = (entries: AccessLogEntry[]) => entries.map(formatAccessLog);

    it('ranks the ten most requested paths of successful GETs', async () => {
      const rng = new Rng(303);
      let i = 0;
      const entries = (n: number) => Array.from({ length: n }, () => accessLogEntry(rng, at(i++)));
      const plain = entries(500);
      const gzipped = entries(400);
      const crlf = entries(300);
      const unterminated = entries(299);
      const withLong = [...entries(3), accessLogEntry(rng, at(i++), { queryBytes: 2500 }), ...entries(3)];
      const files: Files = {
        'access.log.1': joinLines(lines(plain)),
        'access.log.2.gz': gzipSync(joinLines(lines(gzipped))),
        'crlf.log': joinLines(lines(crlf), { eol: '\r\n' }),
        'no-final-newline.log': joinLines(lines(unterminated), { finalNewline: false }),
        'long-query.log': joinLines(lines(withLong)),
        'empty.log': '',
      };
      const all = [...plain, ...gzipped, ...crlf, ...unterminated, ...withLong];

      const { result, output } = await runOver('top-urls', files);

      expect(output).toEqual(topUrls(all));
      expect(result.counters.inputRecords).toBe(all.length);
      expect(result.counters.outputRecords).toBe(output.size);
    });

    it('breaks count ties by path ascending', async () => {
      const rng = new Rng(304);
      const request = (path: string, method = 'GET', status = 200): AccessLogEntry => ({
        ...accessLogEntry(rng, at(0)),
        request: { method, path, query: '?a=1', protocol: 'HTTP/1.1' },
        status,
      });
      // Twelve paths with three successful GETs each, listed in an order that is not alphabetical,
      // and a path whose many requests must not count: POSTs and a 404.
      const paths = 'm k a x c q b z e j f t'.split(' ').map((p) => `/p/${p}`);
      const ties = [...paths, ...paths, ...paths].map((p) => request(p));
      const noise = [
        ...Array.from({ length: 5 }, () => request('/p/0', 'POST')),
        request('/p/0', 'GET', 404),
      ];
      const all = [...ties, ...noise];
      const files: Files = {
        'a.log': joinLines(lines(all.slice(0, 20))),
        'b.log': joinLines(lines(all.slice(20))),
      };

      const { output } = await runOver('top-urls', files, 256);

      expect(output).toEqual(topUrls(all));
      expect([...output.values()].map((v) => (v as { url: string }).url)).toEqual(
        [...paths].sort().slice(0, 10),
      );
    });
  });

  describe('revenue-by-country', () => {
    it('sums quantity x unit price per country, exact to the cent', async () => {
      const rng = new Rng(404);
      let n = 0;
      const orders = (count: number) => Array.from({ length: count }, () => order(rng, ++n));
      const csv = (os: Order[], layout?: Parameters<typeof joinLines>[1]) =>
        joinLines([ORDER_CSV_HEADER, ...os.map(orderCsvRow)], layout);
      const plain = orders(400);
      const crlf = orders(300);
      const unterminated = orders(300);
      const withLong = [...orders(3), order(rng, ++n, { notesBytes: 3000 }), ...orders(3)];
      const files: Files = {
        'orders-01.csv': csv(plain),
        'orders-02.csv': csv(crlf, { eol: '\r\n' }),
        'orders-03.csv': csv(unterminated, { finalNewline: false }),
        'orders-04.csv': csv(withLong),
        'header-only.csv': csv([]),
        'empty.csv': '',
      };
      const all = [...plain, ...crlf, ...unterminated, ...withLong];

      const { result, output } = await runOver('revenue-by-country', files);

      expect(output).toEqual(revenueByCountry(all));
      expect(result.counters.inputRecords).toBe(all.length);
      expect(result.counters.outputRecords).toBe(output.size);
    });
  });

  describe('parquet-revenue', () => {
    it('sums quantity x unit price per country from Parquet files cut into splits, exact to the cent', async () => {
      const rng = new Rng(405);
      let n = 0;
      const orders = (count: number) => Array.from({ length: count }, () => order(rng, ++n));
      const snappy = orders(5000);
      const gzip = orders(4500);
      const small = orders(7);
      const files: Files = {};
      for (const [name, os, compression] of [
        ['orders-01.parquet', snappy, 'snappy'],
        ['orders-02.parquet', gzip, 'gzip'],
        ['orders-03.parquet', small, 'zstd'],
      ] as const) {
        const path = join(root, name);
        await writeOrdersParquet(path, os, { compression });
        files[name] = await readFile(path);
      }
      const all = [...snappy, ...gzip, ...small];

      const { result, output } = await runOver('parquet-revenue', files, 8 * 1024);

      expect(output).toEqual(revenueByCountry(all));
      expect(result.counters.inputRecords).toBe(all.length);
      expect(result.counters.outputRecords).toBe(output.size);
    });
  });

  describe('sort', () => {
    /** Every key of a part below every key of the next; each part in key order. */
    function expectGloballyOrdered(parts: string[][]): void {
      const keys = parts.map((p) => p.map((r) => r.slice(0, 10)));
      for (const [i, part] of keys.entries()) {
        expect(part, `part ${i} in key order`).toEqual([...part].sort());
        const next = keys.slice(i + 1).find((p) => p.length > 0);
        if (part.length > 0 && next) expect((part.at(-1) as string) < (next[0] as string)).toBe(true);
      }
    }

    it('orders the records by key within and across part files, as sort does, keeping repeated keys in input order', async () => {
      const lines = (text: string) => text.split('\n').filter((l) => l !== '');
      const a = lines(recordsText(2500, 11, 0));
      const b = lines(recordsText(2000, 12, 2500));
      const c = lines(recordsText(100, 13, 4500));
      // A key read three times: twice in one file, once in another, each with its own payload.
      const repeated = (a[10] as string).slice(0, 10);
      a[1200] = repeated + (a[1200] as string).slice(10);
      b[700] = repeated + (b[700] as string).slice(10);
      const files: Files = {
        'a.txt': joinLines(a),
        'b.txt': joinLines(b),
        // Last by name, and smaller than a split once compressed: read whole, after the others.
        'c.txt.gz': gzipSync(joinLines(c)),
      };
      const all = [...a, ...b, ...c];

      const { result, output } = await runOverParts('sort', files, 16 * 1024);

      expect(output).toHaveLength(8);
      expect(output.flat()).toEqual(sortedByKey(all));
      expectGloballyOrdered(output);
      // The split points came from a sample of the input: no part is far from an eighth of it.
      for (const part of output) expect(Math.abs(part.length - all.length / 8)).toBeLessThan(all.length / 16);
      expect(result.counters.inputRecords).toBe(all.length);
      expect(result.counters.outputRecords).toBe(all.length);
    });

    it('sorts its sample data into parts in key order', async () => {
      const input = fileURLToPath(new URL('../../jobs/data/sort/', import.meta.url));
      const names = (await readdir(input)).sort();
      const all = (await Promise.all(names.map((n) => readFile(join(input, n), 'latin1')))).flatMap((t) =>
        t.split('\n').filter((l) => l !== ''),
      );
      expect(all).toHaveLength(2000);
      const dir = await mkdtemp(join(root, 'sort-sample-'));
      const result = await runJob(jobPath('sort'), {
        input: [input],
        output: join(dir, 'out'),
        workDir: join(dir, 'work'),
        partitions: 4,
        concurrency: 2,
      });
      const parts = await partRecords(join(dir, 'out'));
      expect(parts).toHaveLength(4);
      expect(parts.flat()).toEqual(sortedByKey(all));
      expect(parts.every((p) => p.length > 0)).toBe(true);
      expectGloballyOrdered(parts);
      expect(result.parts).toEqual([
        'part-00000.jsonl',
        'part-00001.jsonl',
        'part-00002.jsonl',
        'part-00003.jsonl',
      ]);
    });
  });

  describe('inverted-index', () => {
    it('lists the sorted, distinct ids of the documents holding each term', async () => {
      const rng = new Rng(505);
      // Ids count down, so the order documents are read in is not the order their ids sort in.
      let n = 99_999;
      const id = () => `doc-${String(n--).padStart(5, '0')}`;
      const docs = (count: number) => Array.from({ length: count }, () => doc(rng, id()));
      const plain = [doc(rng, id(), 0), ...docs(249)];
      const crlf = docs(150);
      // The first document again: a re-indexed document must not list its id twice.
      const unterminated = [...docs(150), plain[1] as Doc];
      const withLong = [...docs(3), doc(rng, id(), 400), ...docs(3)];
      const jsonl = (ds: Doc[], layout?: Parameters<typeof joinLines>[1]) =>
        joinLines(ds.map(docJsonLine), layout);
      const files: Files = {
        'docs-1.jsonl': jsonl(plain),
        'docs-2.jsonl': jsonl(crlf, { eol: '\r\n' }),
        'docs-3.jsonl': jsonl(unterminated, { finalNewline: false }),
        'docs-4.jsonl': jsonl(withLong),
        'empty.jsonl': '',
      };
      const all = [...plain, ...crlf, ...unterminated, ...withLong];

      const { result, output } = await runOver('inverted-index', files);

      expect(output).toEqual(invertedIndex(all));
      expect(result.counters.inputRecords).toBe(all.length);
      expect(result.counters.outputRecords).toBe(output.size);
    });
  });

  // The chaos suites compare faulty runs over the sample data with these oracles: without faults the
  // job must give them, and every input record must be read once.
  it.each(EXAMPLE_JOBS)('%s over its sample data in jobs/data/ gives the sample oracle', async (job) => {
    const oracle = sampleOracle(job);
    const dir = await mkdtemp(join(root, `${job}-sample-`));
    const result = await runJob(jobPath(job), {
      input: [fileURLToPath(new URL(`../../jobs/data/${job}`, import.meta.url))],
      output: join(dir, 'out'),
      workDir: join(dir, 'work'),
      concurrency: 2,
    });
    expect(await readOutput(join(dir, 'out'), oracle.read)).toEqual(oracle.output);
    expect(result.counters.inputRecords).toBe(oracle.inputRecords);
  });

  it('latency-by-path writes Parquet over the clean-logs sample that DuckDB reads as the oracle', async () => {
    const { records } = makeSample('clean-logs');
    const want = new Map<string, { requests: number; total: number; max: number }>();
    for (const e of records) {
      const t = want.get(e.path) ?? { requests: 0, total: 0, max: 0 };
      want.set(e.path, {
        requests: t.requests + 1,
        total: t.total + e.latencyMs,
        max: Math.max(t.max, e.latencyMs),
      });
    }
    const dir = await mkdtemp(join(root, 'latency-by-path-'));
    const result = await runJob(jobPath('latency-by-path'), {
      input: [fileURLToPath(new URL('../../jobs/data/clean-logs', import.meta.url))],
      output: join(dir, 'out'),
      workDir: join(dir, 'work'),
      concurrency: 2,
      // Many map tasks, so combine and reduce add up tallies from several.
      splitSize: 8 * 1024,
      partitions: 3,
    });
    expect(result.counters.inputRecords).toBe(records.length);
    expect((await readdir(join(dir, 'out'))).filter((n) => n.endsWith('.parquet')).length).toBe(3);
    const from = `read_parquet(${sqlString(join(dir, 'out', '*.parquet'))})`;
    expect(await duckdbColumns(from)).toEqual({
      key: 'VARCHAR',
      requests: 'BIGINT',
      mean_ms: 'DOUBLE',
      max_ms: 'BIGINT',
    });
    const rows = await duckdbRows(`SELECT key, requests, mean_ms, max_ms FROM ${from} ORDER BY key`);
    expect(rows).toEqual(
      [...want]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, t]) => ({ key, requests: t.requests, mean_ms: t.total / t.requests, max_ms: t.max })),
    );
  });
});
