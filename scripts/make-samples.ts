/**
 * Writes the sample inputs under `jobs/data/<job>/` that `mr run jobs/<job>.ts` reads when given no
 * `--input`. Deterministic: the same seeds give byte-identical files, so re-running it shows no diff.
 * `jobs/data/wordcount-js` is a link to the word count's folder: both jobs read the same sample.
 *
 *   node --import tsx scripts/make-samples.ts
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { recordsText } from '../bench/sort-gen.js';
import {
  accessLogEntry,
  doc,
  docJsonLine,
  type FileLayout,
  formatAccessLog,
  joinLines,
  longWordLine,
  MULTIBYTE_WORDS,
  ORDER_CSV_HEADER,
  order,
  orderCsvRow,
  Rng,
  wordLine,
} from '../test/helpers/factories.js';

const DATA = fileURLToPath(new URL('../jobs/data/', import.meta.url));

type Files = Record<string, string | Buffer>;

function wordcount(rng: Rng): Files {
  const lines = (n: number) => Array.from({ length: n }, () => wordLine(rng).text);
  const multibyte = Array.from({ length: 200 }, () =>
    Array.from({ length: rng.int(1, 10) }, () => rng.pick(MULTIBYTE_WORDS)).join(' '),
  );
  return {
    'alice.txt': joinLines(lines(3000)),
    'bob.txt': joinLines(lines(2000)),
    'archive.txt.gz': gzipSync(joinLines(lines(4000))),
    'windows-crlf.txt': joinLines(lines(800), { eol: '\r\n' }),
    'no-final-newline.txt': joinLines(lines(300), { finalNewline: false }),
    'multibyte.txt': joinLines(multibyte),
    'long-line.txt': joinLines([longWordLine(rng, 100_000).text]),
    'empty.txt': '',
  };
}

function topUrls(rng: Rng): Files {
  let clock = Date.UTC(2024, 5, 1);
  const log = (n: number, layout?: FileLayout) => {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      clock += rng.int(0, 900);
      lines.push(formatAccessLog(accessLogEntry(rng, new Date(clock))));
    }
    return joinLines(lines, layout);
  };
  // Rotated nginx names, oldest highest; only these, since `*.log` is git-ignored.
  return {
    'access.log.3.gz': gzipSync(log(3000)),
    'access.log.2': log(1500),
    'access.log.1': log(1200, { finalNewline: false }),
  };
}

function revenueByCountry(rng: Rng): Files {
  let n = 0;
  const csv = (rows: number, layout?: FileLayout) =>
    joinLines(
      [ORDER_CSV_HEADER, ...Array.from({ length: rows }, () => orderCsvRow(order(rng, ++n)))],
      layout,
    );
  return {
    'orders-2024-01.csv': csv(2000),
    'orders-2024-02.csv': csv(2000),
    'orders-2024-03.csv': csv(1500, { eol: '\r\n' }),
    'orders-2024-04.csv': csv(800, { finalNewline: false }),
  };
}

function invertedIndex(rng: Rng): Files {
  let n = 0;
  const jsonl = (docs: number, layout?: FileLayout) =>
    joinLines(
      Array.from({ length: docs }, () => docJsonLine(doc(rng, `doc-${String(++n).padStart(5, '0')}`))),
      layout,
    );
  return {
    'docs-000.jsonl': jsonl(1200),
    'docs-001.jsonl': jsonl(1200),
    'docs-002.jsonl': jsonl(600, { eol: '\r\n', finalNewline: false }),
  };
}

/** Sort Benchmark records (bench/sort-gen.ts): 2,000 in two files, numbered on across them. */
function sort(rng: Rng): Files {
  const seed = () => Math.floor(rng.next() * 2 ** 32);
  return {
    'records-0.txt': recordsText(1200, seed(), 0),
    'records-1.txt': recordsText(800, seed(), 1200),
  };
}

const SAMPLES: Record<string, (rng: Rng) => Files> = {
  wordcount,
  'top-urls': topUrls,
  'revenue-by-country': revenueByCountry,
  'inverted-index': invertedIndex,
  sort,
};

let seed = 1;
for (const [job, make] of Object.entries(SAMPLES)) {
  const dir = join(DATA, job);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let bytes = 0;
  for (const [name, content] of Object.entries(make(new Rng(seed++)))) {
    await writeFile(join(dir, name), content);
    bytes += Buffer.byteLength(content);
  }
  console.log(`${dir}: ${(bytes / 1024).toFixed(0)} KiB`);
}
