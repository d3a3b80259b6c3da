/**
 * The example jobs' sample inputs (`jobs/data/<job>/`), generated from seeded factories: each
 * sample's files together with the structured records they were written from, so an oracle can
 * compute a job's expected output from the records without parsing the files the way the job does.
 * scripts/make-samples.ts writes the files; test/helpers/example-oracles.ts computes from the records.
 */
import { gzipSync } from 'node:zlib';
import { recordsText } from '../../bench/sort-gen.js';
import {
  type AccessLogEntry,
  accessLogEntry,
  CUSTOMER_CSV_HEADER,
  type Customer,
  customer,
  customerCsvRow,
  type Doc,
  doc,
  docJsonLine,
  type FileLayout,
  formatAccessLog,
  joinLines,
  type LogEvent,
  logEvent,
  logEventJsonLine,
  longWordLine,
  MULTIBYTE_WORDS,
  ORDER_CSV_HEADER,
  type Order,
  order,
  orderCsvRow,
  Rng,
  SALE_CSV_HEADER,
  type Sale,
  sale,
  saleCsvRow,
  type WordLine,
  wordLine,
} from './factories.js';

/** File name to content. */
export type Files = Record<string, string | Buffer>;

/** A sample: its files, and the records (one per line, headers aside) they hold, in file order. */
export interface Sample<R> {
  files: Files;
  records: R[];
}

function wordcount(rng: Rng): Sample<WordLine> {
  const lines = (n: number) => Array.from({ length: n }, () => wordLine(rng));
  const text = (ls: WordLine[]) => ls.map((l) => l.text);
  // Drawn first, as they always were: the same seed must keep giving the same files.
  const multibyte = Array.from({ length: 200 }, (): WordLine => {
    const tokens = Array.from({ length: rng.int(1, 10) }, () => rng.pick(MULTIBYTE_WORDS));
    return { text: tokens.join(' '), tokens };
  });
  const alice = lines(3000);
  const bob = lines(2000);
  const archive = lines(4000);
  const crlf = lines(800);
  const unterminated = lines(300);
  const long = longWordLine(rng, 100_000);
  return {
    files: {
      'alice.txt': joinLines(text(alice)),
      'bob.txt': joinLines(text(bob)),
      'archive.txt.gz': gzipSync(joinLines(text(archive))),
      'windows-crlf.txt': joinLines(text(crlf), { eol: '\r\n' }),
      'no-final-newline.txt': joinLines(text(unterminated), { finalNewline: false }),
      'multibyte.txt': joinLines(text(multibyte)),
      'long-line.txt': joinLines([long.text]),
      'empty.txt': '',
    },
    records: [...alice, ...bob, ...archive, ...crlf, ...unterminated, ...multibyte, long],
  };
}

function topUrls(rng: Rng): Sample<AccessLogEntry> {
  let clock = Date.UTC(2024, 5, 1);
  const records: AccessLogEntry[] = [];
  const log = (n: number, layout?: FileLayout) => {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      clock += rng.int(0, 900);
      const entry = accessLogEntry(rng, new Date(clock));
      records.push(entry);
      lines.push(formatAccessLog(entry));
    }
    return joinLines(lines, layout);
  };
  // Rotated nginx names, oldest highest; only these, since `*.log` is git-ignored.
  return {
    files: {
      'access.log.3.gz': gzipSync(log(3000)),
      'access.log.2': log(1500),
      'access.log.1': log(1200, { finalNewline: false }),
    },
    records,
  };
}

function revenueByCountry(rng: Rng): Sample<Order> {
  let n = 0;
  const records: Order[] = [];
  const csv = (rows: number, layout?: FileLayout) => {
    const orders = Array.from({ length: rows }, () => order(rng, ++n));
    records.push(...orders);
    return joinLines([ORDER_CSV_HEADER, ...orders.map(orderCsvRow)], layout);
  };
  return {
    files: {
      'orders-2024-01.csv': csv(2000),
      'orders-2024-02.csv': csv(2000),
      'orders-2024-03.csv': csv(1500, { eol: '\r\n' }),
      'orders-2024-04.csv': csv(800, { finalNewline: false }),
    },
    records,
  };
}

function invertedIndex(rng: Rng): Sample<Doc> {
  let n = 0;
  const records: Doc[] = [];
  const jsonl = (count: number, layout?: FileLayout) => {
    const docs = Array.from({ length: count }, () => doc(rng, `doc-${String(++n).padStart(5, '0')}`));
    records.push(...docs);
    return joinLines(docs.map(docJsonLine), layout);
  };
  return {
    files: {
      'docs-000.jsonl': jsonl(1200),
      'docs-001.jsonl': jsonl(1200),
      'docs-002.jsonl': jsonl(600, { eol: '\r\n', finalNewline: false }),
    },
    records,
  };
}

/** An app's log events: hourly JSONL files, each event with the file it is in. */
function cleanLogs(rng: Rng): Sample<LogEvent & { file: string }> {
  let n = 0;
  let clock = Date.UTC(2024, 5, 1);
  const records: (LogEvent & { file: string })[] = [];
  const files: Files = {};
  for (let hour = 0; hour < 12; hour++) {
    const file = `app-2024-06-01T${String(hour).padStart(2, '0')}.jsonl`;
    const lines: string[] = [];
    for (let i = rng.int(150, 450); i > 0; i--) {
      clock += rng.int(0, 20_000);
      const e = logEvent(rng, ++n, clock);
      records.push({ ...e, file });
      lines.push(logEventJsonLine(rng, e));
    }
    files[file] = joinLines(lines, hour === 11 ? { finalNewline: false } : {});
  }
  return { files, records };
}

/** Customers in one CSV and their orders in three, under `customers/` and `orders/`. */
function joinOrders(rng: Rng): Sample<{ customers: Customer[]; sales: Sale[] }> {
  const customers = Array.from({ length: 400 }, (_, i) => customer(rng, i + 1));
  let n = 0;
  const sales: Sale[] = [];
  const orders = (count: number) => {
    const batch = Array.from({ length: count }, () => sale(rng, ++n, customers.length));
    sales.push(...batch);
    return joinLines([SALE_CSV_HEADER, ...batch.map(saleCsvRow)]);
  };
  return {
    files: {
      'customers/customers.csv': joinLines([CUSTOMER_CSV_HEADER, ...customers.map(customerCsvRow)]),
      'orders/2024-q1.csv': orders(1500),
      'orders/2024-q2.csv': orders(1500),
      'orders/2024-q3.csv': orders(900),
    },
    records: [{ customers, sales }],
  };
}

/** Sort Benchmark records/** Sort Benchmark records (bench/sort-gen.ts): 2,000 in two files, numbered on across them. */
function sort(rng: Rng): Sample<string> {
  const seed = () => Math.floor(rng.next() * 2 ** 32);
  const files = {
    'records-0.txt': recordsText(1200, seed(), 0),
    'records-1.txt': recordsText(800, seed(), 1200),
  };
  return { files, records: Object.values(files).flatMap((t) => t.split('\n').filter((l) => l !== '')) };
}

/** Each sample folder's generator and seed. `jobs/data/wordcount-js` links to the word count's. */
export const SAMPLES = {
  wordcount: { seed: 1, make: wordcount },
  'top-urls': { seed: 2, make: topUrls },
  'revenue-by-country': { seed: 3, make: revenueByCountry },
  'inverted-index': { seed: 4, make: invertedIndex },
  sort: { seed: 5, make: sort },
  'clean-logs': { seed: 6, make: cleanLogs },
  'join-orders': { seed: 7, make: joinOrders },
} as const;

export type SampleName = keyof typeof SAMPLES;

/** A sample generated afresh from its seed: byte for byte the files in jobs/data/<name>/. */
export function makeSample<N extends SampleName>(name: N): ReturnType<(typeof SAMPLES)[N]['make']> {
  const { seed, make } = SAMPLES[name];
  return make(new Rng(seed)) as ReturnType<(typeof SAMPLES)[N]['make']>;
}
