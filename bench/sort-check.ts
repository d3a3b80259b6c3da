/**
 * Checks a sort's output against its input, as gensort's valsort does: every record of the input is
 * in the output once (the same count, and the same sum of the records' CRC-32s), and the output is in
 * key order. Two kinds of output:
 *   - a folder of part files (`mr run jobs/sort.ts`): `part-NNNNN.jsonl`, each line `{"key","value"}`
 *     whose record is `key + value`; each part sorted by key, and every key of part N below every key
 *     of part N+1;
 *   - one file of records, one a line (`sort`'s output): sorted by key.
 * Keys are the records' first 10 bytes, compared as bytes (as `LC_ALL=C sort` does; keys are ASCII,
 * where that is also the order of JavaScript strings).
 *
 *   node --import tsx bench/sort-check.ts --input records.txt [more files or folders] --output out/
 *
 * Exits 1, listing what is wrong, when the output fails a check.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';
import { KEY_BYTES } from './sort-gen.js';

/** A multiset of records: how many, and the sum of their CRC-32s (exact, as two 32-bit halves). */
export class RecordSum {
  count = 0;
  #hi = 0;
  #lo = 0;

  /** Adds one record, its line without the newline. */
  add(record: Buffer | string): void {
    this.count++;
    this.#lo += crc32(record);
    if (this.#lo >= 2 ** 32) {
      this.#lo -= 2 ** 32;
      this.#hi++;
    }
  }

  get checksum(): string {
    return `${this.#hi.toString(16)}${this.#lo.toString(16).padStart(8, '0')}`;
  }
}

/** The lines of a file, without their newlines, read in large chunks. */
export function* fileLines(path: string): Generator<Buffer> {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(8 << 20);
  let carry: Buffer = Buffer.alloc(0);
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let from = 0;
      for (let nl = buf.indexOf(0x0a, from); nl >= 0; nl = buf.indexOf(0x0a, from)) {
        yield buf.subarray(from, nl);
        from = nl + 1;
      }
      carry = Buffer.from(buf.subarray(from));
    }
    if (carry.length > 0) yield carry;
  } finally {
    closeSync(fd);
  }
}

/** The records of the input files: their count and checksum. */
export function inputSum(inputs: readonly string[]): RecordSum {
  const sum = new RecordSum();
  for (const file of inputs) for (const line of fileLines(file)) sum.add(line);
  return sum;
}

export interface CheckResult {
  records: number;
  checksum: string;
  parts: number;
  problems: string[];
}

/**
 * Checks `output` (a folder of part files, or one file of lines) against `expected`, the input's
 * records. Keys are compared as JavaScript strings of the key bytes read as Latin-1: byte order.
 */
export function checkSortOutput(output: string, expected: RecordSum): CheckResult {
  const problems: string[] = [];
  const sum = new RecordSum();
  const report = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  let previous: string | undefined; // the last key seen, across parts
  let parts = 0;
  const check = (key: string, where: string, firstOfPart: boolean) => {
    if (previous !== undefined) {
      // Within a part keys may repeat; across parts never: a key is in exactly one part.
      if (key < previous || (firstOfPart && key === previous)) {
        report(`${where}: key ${JSON.stringify(key)} after ${JSON.stringify(previous)}`);
      }
    }
    previous = key;
  };
  if (statSync(output).isDirectory()) {
    const names = readdirSync(output)
      .filter((n) => /^part-\d{5}\.jsonl$/.test(n))
      .sort();
    if (names.length === 0) report(`no part-NNNNN.jsonl files in ${output}`);
    for (const name of names) {
      parts++;
      let line = 0;
      for (const raw of fileLines(join(output, name))) {
        line++;
        let rec: { key?: unknown; value?: unknown };
        try {
          rec = JSON.parse(raw.toString('utf8')) as typeof rec;
        } catch {
          report(`${name}:${line}: not JSON`);
          continue;
        }
        if (typeof rec.key !== 'string' || typeof rec.value !== 'string') {
          report(`${name}:${line}: expected {"key": string, "value": string}`);
          continue;
        }
        const record = Buffer.from(rec.key + rec.value, 'utf8');
        check(record.toString('latin1', 0, KEY_BYTES), `${name}:${line}`, line === 1);
        sum.add(record);
      }
    }
  } else {
    parts = 1;
    let line = 0;
    for (const record of fileLines(output)) {
      line++;
      check(record.toString('latin1', 0, KEY_BYTES), `${output}:${line}`, false);
      sum.add(record);
    }
  }
  if (sum.count !== expected.count) report(`${sum.count} records, the input has ${expected.count}`);
  if (sum.checksum !== expected.checksum) {
    report(`checksum ${sum.checksum}, the input's is ${expected.checksum}: records differ`);
  }
  return { records: sum.count, checksum: sum.checksum, parts, problems };
}

/** Input files: each file named, and the files of each folder named (by name, `.` and `_` ones left out). */
function inputFiles(locations: readonly string[]): string[] {
  return locations.flatMap((l) =>
    statSync(l).isDirectory()
      ? readdirSync(l)
          .filter((n) => !n.startsWith('.') && !n.startsWith('_'))
          .sort()
          .map((n) => join(l, n))
      : [l],
  );
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { input: { type: 'string', multiple: true }, output: { type: 'string' } },
    allowPositionals: true,
  });
  const inputs = [...(values.input ?? []), ...positionals];
  if (inputs.length === 0 || !values.output) {
    throw new Error('usage: sort-check --input FILE|DIR [FILE|DIR...] --output DIR|FILE');
  }
  const expected = inputSum(inputFiles(inputs));
  const r = checkSortOutput(values.output, expected);
  if (r.problems.length > 0) {
    console.error(`${values.output}: ${r.problems.length} problem(s):\n  ${r.problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(
    `${values.output}: ok, ${r.records.toLocaleString('en-US')} records in ${r.parts} part(s), sorted, checksum ${r.checksum} as the input's`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
