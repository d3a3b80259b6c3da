import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
};

/**
 * Parses a byte size: plain bytes (`1048576`) or a number with a unit (`64MiB`, `4KiB`, `1.5GB`).
 * @throws {UsageError} naming the flag and the value received.
 */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  if (!m || unit === undefined) {
    throw new UsageError(
      `invalid size ${JSON.stringify(text)} for ${flag}: use bytes or a unit, e.g. 64MiB, 4KiB, 1048576`,
    );
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new UsageError(`${flag} must be at least 1 byte, got ${text}`);
  return bytes;
}

/**
 * Parses a whole number flag of at least `min` (1: a positive one).
 * @throws {UsageError} naming the flag and the value.
 */
export function parseCount(text: string, flag: string, min = 1): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(
      `invalid value ${JSON.stringify(text)} for ${flag}: expected a ${min === 1 ? 'positive whole number' : `whole number of at least ${min}`}`,
    );
  }
  return Number(text);
}

/**
 * Parses a comma-separated list of distinct positive whole numbers, e.g. `1,2,4,8`.
 * @throws {UsageError} naming the flag and what is wrong: an empty list or entry, a number that is not
 *   a positive whole one, or one listed twice.
 */
export function parseCountList(text: string, flag: string): number[] {
  const entries = text.split(',').map((e) => e.trim());
  if (entries.every((e) => e === '')) throw new UsageError(`${flag} needs a list of numbers, e.g. 1,2,4,8`);
  const seen = new Set<number>();
  for (const entry of entries) {
    if (entry === '') throw new UsageError(`empty entry in ${flag} ${JSON.stringify(text)}`);
    const n = parseCount(entry, flag);
    if (seen.has(n)) throw new UsageError(`${flag} lists ${n} twice`);
    seen.add(n);
  }
  return [...seen];
}

/** Formats bytes for people: `1.5 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** `--merge-fan-in`: 0 (off) or at least 2. */
export function fanInFlag(text: string): number {
  const n = parseCount(text, '--merge-fan-in', 0);
  if (n === 1) throw new UsageError('invalid value "1" for --merge-fan-in: expected 0 (off) or at least 2');
  return n;
}
