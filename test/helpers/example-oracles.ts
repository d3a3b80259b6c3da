/**
 * Oracles of the example jobs in `jobs/`: what each must output, computed in plain JS from the
 * factories' structured records (tokens, request fields, order amounts, document terms), never by
 * parsing the text the way the job does, and never from the engine's own output. Keyed the way
 * `readOutput` keys a job's output, so `expect(await readOutput(dir)).toEqual(oracle)` compares them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { AccessLogEntry, Customer, Doc, LogEvent, Order, Sale, WordLine } from './factories.js';
import type { ReadRecords } from './read-output.js';
import { makeSample, type SampleName } from './samples.js';

/** An oracle's results keyed the way `readOutput` keys the job's. */
export const keyed = (entries: Iterable<readonly [unknown, unknown]>): Map<string, unknown> =>
  new Map(Array.from(entries, ([k, v]) => [JSON.stringify(k), v]));

export function countBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

/** wordcount and wordcount-js: how often each token occurs. */
export function wordCounts(lines: readonly WordLine[]): Map<string, unknown> {
  return keyed(
    countBy(
      lines.flatMap((l) => l.tokens),
      (t) => t,
    ),
  );
}

/** top-urls: successful GETs per path, ten best by count descending then path ascending, ranked from 1. */
export function topUrls(entries: readonly AccessLogEntry[]): Map<string, unknown> {
  const ok = entries.filter((e) => e.request?.method === 'GET' && e.status >= 200 && e.status < 300);
  const counts = countBy(ok, (e) => e.request?.path ?? '');
  const ranked = [...counts]
    .map(([url, count]) => ({ url, count }))
    .sort((a, b) => (a.count !== b.count ? b.count - a.count : a.url < b.url ? -1 : 1))
    .slice(0, 10);
  return keyed(ranked.map((entry, i) => [i + 1, entry]));
}

/** revenue-by-country: quantity x unit price summed per country, in cents, then in currency units. */
export function revenueByCountry(orders: readonly Order[]): Map<string, unknown> {
  const cents = new Map<string, number>();
  for (const o of orders) cents.set(o.country, (cents.get(o.country) ?? 0) + o.quantity * o.unitPriceCents);
  return keyed(Array.from(cents, ([country, c]) => [country, c / 100]));
}

/** inverted-index: the sorted, distinct ids of the documents holding each term. */
export function invertedIndex(docs: readonly Doc[]): Map<string, unknown> {
  const index = new Map<string, Set<string>>();
  for (const d of docs) for (const t of d.terms) index.set(t, (index.get(t) ?? new Set()).add(d.id));
  return keyed(Array.from(index, ([term, ids]) => [term, [...ids].sort()]));
}

/** clean-logs: events past debug with a user, each field written one way, with its file; by id. */
export function cleanLogs(events: readonly (LogEvent & { file: string })[]): Map<string, unknown> {
  return keyed(
    events
      .filter((e) => e.level !== 'debug' && e.user !== null)
      .map((e) => [
        e.id,
        {
          id: e.id,
          at: new Date(e.at).toISOString(),
          level: e.level,
          user: e.user,
          path: e.path,
          latency_ms: e.latencyMs,
          source: e.file,
        },
      ]),
  );
}

/** join-orders: every customer with its orders' count and total, and unknown customers' orders. */
export function joinOrders(customers: readonly Customer[], sales: readonly Sale[]): Map<string, unknown> {
  const out = new Map<
    string,
    { name: string | null; country: string | null; orders: number; cents: number }
  >();
  for (const c of customers) out.set(c.customerId, { name: c.name, country: c.country, orders: 0, cents: 0 });
  for (const s of sales) {
    const row = out.get(s.customerId) ?? { name: null, country: null, orders: 0, cents: 0 };
    row.orders++;
    row.cents += s.amountCents;
    out.set(s.customerId, row);
  }
  return keyed(
    Array.from(out, ([id, r]) => [
      id,
      { name: r.name, country: r.country, orders: r.orders, total: r.cents / 100 },
    ]),
  );
}

/** What an example job must output over its sample data/** What an example job must output over its sample data, and how many input records that data holds. */
export interface SampleOracle {
  output: Map<string, unknown>;
  inputRecords: number;
  /** How readOutput reads the job's output: a map-only job's records, keyed by a field. */
  read?: ReadRecords;
}

/** The sample folder each example job reads (wordcount-js reads the word count's). */
const SAMPLE_OF: Record<string, SampleName> = {
  wordcount: 'wordcount',
  'wordcount-js': 'wordcount',
  'top-urls': 'top-urls',
  'revenue-by-country': 'revenue-by-country',
  'inverted-index': 'inverted-index',
  'clean-logs': 'clean-logs',
  'join-orders': 'join-orders',
};

const cache = new Map<string, SampleOracle>();

/**
 * The oracle of an example job over its sample data in jobs/data/<job>/, from the records the
 * sample was generated from. Checks first that the folder holds exactly the generated files (gzip
 * ones compared unpacked), so an oracle never describes data the job did not read.
 * @throws {Error} when the job has no sample, or the folder differs from its generator.
 */
export function sampleOracle(job: string): SampleOracle {
  const hit = cache.get(job);
  if (hit) return hit;
  const name = SAMPLE_OF[job];
  if (name === undefined) throw new Error(`no sample data for ${job}`);
  const dir = resolve('jobs/data', job);
  const unpack = (file: string, b: Buffer) => (file.endsWith('.gz') ? gunzipSync(b) : b);
  let oracle: SampleOracle;
  const check = (files: Record<string, string | Buffer>) => {
    const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)))
      .sort();
    if (JSON.stringify(onDisk) !== JSON.stringify(Object.keys(files).sort()))
      throw new Error(`${dir} holds ${onDisk.join(', ')}: run scripts/make-samples.ts`);
    for (const [file, content] of Object.entries(files)) {
      const want = unpack(file, Buffer.from(content));
      if (!unpack(file, readFileSync(resolve(dir, file))).equals(want))
        throw new Error(`${dir}/${file} differs from its generator: run scripts/make-samples.ts`);
    }
  };
  switch (name) {
    case 'wordcount': {
      const s = makeSample(name);
      check(s.files);
      oracle = { output: wordCounts(s.records), inputRecords: s.records.length };
      break;
    }
    case 'top-urls': {
      const s = makeSample(name);
      check(s.files);
      oracle = { output: topUrls(s.records), inputRecords: s.records.length };
      break;
    }
    case 'revenue-by-country': {
      const s = makeSample(name);
      check(s.files);
      oracle = { output: revenueByCountry(s.records), inputRecords: s.records.length };
      break;
    }
    case 'inverted-index': {
      const s = makeSample(name);
      check(s.files);
      oracle = { output: invertedIndex(s.records), inputRecords: s.records.length };
      break;
    }
    case 'clean-logs': {
      const s = makeSample(name);
      check(s.files);
      oracle = { output: cleanLogs(s.records), inputRecords: s.records.length, read: { records: 'id' } };
      break;
    }
    case 'join-orders': {
      const s = makeSample(name);
      check(s.files);
      const [{ customers, sales }] = s.records as [{ customers: Customer[]; sales: Sale[] }];
      oracle = { output: joinOrders(customers, sales), inputRecords: customers.length + sales.length };
      break;
    }
    case 'sort':
      // Keys repeat and order is the point: example-jobs.test.ts checks it part by part.
      throw new Error('jobs/sort.ts has no keyed oracle; see the sort tests in example-jobs.test.ts');
  }
  cache.set(job, oracle);
  return oracle;
}
