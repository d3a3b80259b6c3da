/**
 * Sort Benchmark records, as gensort's ASCII records (`gensort -a`) but ending in `\n`: 100 bytes
 * each, a 10-byte key of printable ASCII (' ' to '~', 95 characters, uniformly random) followed by a
 * 90-byte payload: two spaces, the record's number as 32 hex digits, two spaces, 53 filler
 * characters, and the newline. Seeded: the same seed and size give the same bytes.
 *
 *   node --import tsx bench/sort-gen.ts --size 256 --output bench/data/sort/records.txt [--seed 1]
 *
 * `--size` is in MiB: the file holds floor(size * 2^20 / 100) records. `--records N` asks for N records
 * instead.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const RECORD_BYTES = 100;
export const KEY_BYTES = 10;
/** Records written per write call: 1 MiB of them. */
const BATCH = 10_486;
const HEX = '0123456789ABCDEF';

/** Records in `mib` MiB. */
export const recordsIn = (mib: number): number => Math.floor((mib * 2 ** 20) / RECORD_BYTES);

/** splitmix32: small, fast and good enough to scatter keys. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/** Writes record `n` (with a key drawn from `next`) into `buf` at `at`. */
function writeRecord(buf: Buffer, at: number, n: number, next: () => number): void {
  for (let k = 0; k < KEY_BYTES; k++) buf[at + k] = 0x20 + (next() % 95);
  let p = at + KEY_BYTES;
  buf[p++] = 0x20;
  buf[p++] = 0x20;
  // 32 hex digits of n: n fits in 53 bits, so the first 18 are zeros.
  let rest = n;
  for (let d = 31; d >= 0; d--) {
    buf[p + d] = HEX.charCodeAt(rest % 16);
    rest = Math.floor(rest / 16);
  }
  p += 32;
  buf[p++] = 0x20;
  buf[p++] = 0x20;
  // Filler as gensort's: runs of four of one hex digit, the digits depending on the record number.
  for (let f = 0; f < 53; f++) buf[p + f] = HEX.charCodeAt((n + (f >> 2)) % 16);
  p += 53;
  buf[p] = 0x0a;
}

/** Writes `records` records to `file`, drawn from `seed`. */
export function generateRecords(file: string, records: number, seed = 1): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  const next = rng(seed);
  const buf = Buffer.allocUnsafe(BATCH * RECORD_BYTES);
  const fd = openSync(file, 'w');
  try {
    for (let n = 0; n < records; ) {
      const count = Math.min(BATCH, records - n);
      for (let i = 0; i < count; i++) writeRecord(buf, i * RECORD_BYTES, n + i, next);
      writeSync(fd, buf, 0, count * RECORD_BYTES);
      n += count;
    }
  } finally {
    closeSync(fd);
  }
}

/** `records` records as a string, numbered from `first`, for tests and samples. */
export function recordsText(records: number, seed = 1, first = 0): string {
  const next = rng(seed);
  const buf = Buffer.allocUnsafe(records * RECORD_BYTES);
  for (let n = 0; n < records; n++) writeRecord(buf, n * RECORD_BYTES, first + n, next);
  return buf.toString('latin1');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      records: { type: 'string' },
      seed: { type: 'string', default: '1' },
      output: { type: 'string' },
    },
  });
  if (!values.output) throw new Error('--output FILE is required');
  const records =
    values.records !== undefined ? Number(values.records) : recordsIn(Number(values.size ?? 256));
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(records) || records < 0)
    throw new Error('--records/--size must give a whole number of records');
  if (!Number.isSafeInteger(seed)) throw new Error('--seed must be an integer');
  const t0 = performance.now();
  generateRecords(values.output, records, seed);
  console.log(
    `${values.output}: ${records.toLocaleString('en-US')} records, ${((records * RECORD_BYTES) / 2 ** 20).toFixed(1)} MiB, seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
