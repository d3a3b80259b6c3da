/**
 * A generated `uservisits` table in the shape of the Big Data Benchmark's (AMPLab): CSV without a
 * header, nine columns
 *   sourceIP, destURL, visitDate, adRevenue, userAgent, countryCode, languageCode, searchWord, duration
 * split over 8 files under bench/data/uservisits/, made once from a fixed seed and made again when
 * missing or of another size. Query 2 groups by the first 8 characters of sourceIP and sums adRevenue.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface UservisitsManifest {
  /** Bumped when the generator changes, so an older table is made again. */
  version: number;
  sizeMiB: number;
  files: string[];
  rows: number;
  totalBytes: number;
}

const FILES = 8;
const VERSION = 2;
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.229 Version/11.62',
];
const COUNTRIES = ['USA', 'DEU', 'FRA', 'GBR', 'JPN', 'BRA', 'IND', 'CHN', 'ESP', 'ITA'];
const LANGS = ['USA-en', 'DEU-de', 'FRA-fr', 'GBR-en', 'JPN-ja', 'BRA-pt', 'IND-hi', 'CHN-zh', 'ESP-es'];
const WORDS = ['fanout', 'lambda', 'shuffle', 'reduce', 'stream', 'parquet', 'arrow', 'kinesis', 'bucket'];

/** RFC 4180 quoting for a field holding the delimiter, as real user agents do ("KHTML, like Gecko"). */
const agent = (a: string): string => (a.includes(',') ? `"${a.replaceAll('"', '""')}"` : a);

/** mulberry32: a seeded uniform [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The table at `dir` of about `sizeMiB`, generated unless a manifest of that size is there. */
export function ensureUservisits(
  dir: string,
  sizeMiB: number,
): { manifest: UservisitsManifest; generated: boolean } {
  const manifestFile = join(dir, '_uservisits.json');
  if (existsSync(manifestFile)) {
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as UservisitsManifest;
    if (m.version === VERSION && m.sizeMiB === sizeMiB && m.files.every((f) => existsSync(join(dir, f))))
      return { manifest: m, generated: false };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const next = rng(20261202);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const perFile = Math.floor((sizeMiB * 2 ** 20) / FILES);
  const files: string[] = [];
  let rows = 0;
  let totalBytes = 0;
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = [];
    let bytes = 0;
    while (bytes < perFile) {
      // Octets skewed low, as real address space is, so the 8-character prefixes repeat.
      const ip = `${1 + Math.floor(next() ** 2 * 223)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`;
      const url = `http://${pick(WORDS)}${Math.floor(next() * 100000)}.example.com/${pick(WORDS)}/${Math.floor(next() * 1e6)}.html`;
      const day = new Date(Date.UTC(1980, 0, 1) + Math.floor(next() * 12000) * 86400000)
        .toISOString()
        .slice(0, 10);
      const revenue = (next() * 1000).toFixed(6);
      const line = `${ip},${url},${day},${revenue},${agent(pick(AGENTS))},${pick(COUNTRIES)},${pick(LANGS)},${pick(WORDS)},${1 + Math.floor(next() * 10)}\n`;
      lines.push(line);
      bytes += line.length;
    }
    const name = `part-${String(f).padStart(2, '0')}.csv`;
    writeFileSync(join(dir, name), lines.join(''));
    files.push(name);
    rows += lines.length;
    totalBytes += bytes;
  }
  const manifest = { version: VERSION, sizeMiB, files, rows, totalBytes };
  writeFileSync(manifestFile, JSON.stringify(manifest));
  return { manifest, generated: true };
}
