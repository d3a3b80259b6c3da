import { compareKeys } from './key-order.js';

/**
 * Sorting keys in their order (see compareKeys) fast: string keys by a counting sort on their first
 * code units (or bytes), then comparisons within the runs that share them.
 */

/** Digits of a position: 0 where a key has ended, else its code unit (or byte) + 1. */
export const UNIT_DIGITS = 0x10001;
export const BYTE_DIGITS = 0x101;

/** Leading units sorted by counting; keys that share them are sorted by comparison. */
export const RADIX_UNITS = 4;

/** One array per leading unit, for radixOrder. */
export function newDigits(n: number): Uint32Array[] {
  return Array.from({ length: RADIX_UNITS }, () => new Uint32Array(n));
}

/**
 * The indices of `keys` in ascending order of the keys (as `<` compares strings, code unit by code
 * unit), stable (see radixOrder).
 */
export function sortStrings(keys: readonly string[]): Uint32Array {
  const digits = newDigits(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const s = keys[i] as string;
    const len = Math.min(s.length, RADIX_UNITS);
    for (let at = 0; at < len; at++) (digits[at] as Uint32Array)[i] = s.charCodeAt(at) + 1;
  }
  // Keys of a run share their first units: comparing them whole orders them by the rest.
  return radixOrder(digits, UNIT_DIGITS, (a, b) => {
    const x = keys[a] as string;
    const y = keys[b] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * The indices 0..n-1 in ascending order of their keys, stable: a least-significant-digit counting
 * sort on the keys' first RADIX_UNITS digits (`digits[at][i]`, in [0, radix): 0 where key i has
 * ended, else its unit + 1), then `compare` of the rest of the keys within each run that shares
 * them. For keys like the Sort Benchmark's almost every run is one key long: the whole costs a read
 * of each key and a few passes over typed arrays, where a comparison sort made some 18 comparisons
 * per key (each a cache miss or two) at 300,000 keys, about 4 times as long on this project's
 * machine.
 */
export function radixOrder(
  digits: readonly Uint32Array[],
  radix: number,
  compare: (a: number, b: number) => number,
): Uint32Array {
  const n = (digits[0] as Uint32Array).length;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  let next = new Uint32Array(n);
  const counts = new Uint32Array(radix + 1);
  for (let at = RADIX_UNITS - 1; at >= 0; at--) {
    const d = digits[at] as Uint32Array;
    counts.fill(0);
    for (let i = 0; i < n; i++) (counts[(d[i] as number) + 1] as number)++;
    for (let v = 1; v <= radix; v++) counts[v] = (counts[v] as number) + (counts[v - 1] as number);
    for (let i = 0; i < n; i++) {
      const k = order[i] as number;
      next[(counts[d[k] as number] as number)++] = k;
    }
    [order, next] = [next, order];
  }
  // Runs of keys equal in their first digits: order them by the rest, keeping equal keys in order.
  // A key that ended within them (a 0 digit) has no rest: it equals the others in its run.
  const [d0, d1, d2, d3] = digits as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  for (let i = 0; i < n; ) {
    const a = order[i] as number;
    let j = i + 1;
    while (j < n) {
      const b = order[j] as number;
      if (d0[a] !== d0[b] || d1[a] !== d1[b] || d2[a] !== d2[b] || d3[a] !== d3[b]) break;
      j++;
    }
    if (j - i > 1 && d3[a] !== 0) sortRun(order, i, j, compare);
    i = j;
  }
  return order;
}

/** Sorts `order[from, to)` by `compare`, stable: insertion sort for short runs, else the engine's sort. */
function sortRun(
  order: Uint32Array,
  from: number,
  to: number,
  compare: (a: number, b: number) => number,
): void {
  if (to - from <= 16) {
    for (let i = from + 1; i < to; i++) {
      const k = order[i] as number;
      let j = i - 1;
      while (j >= from && compare(order[j] as number, k) > 0) {
        order[j + 1] = order[j] as number;
        j--;
      }
      order[j + 1] = k;
    }
    return;
  }
  order.set(Array.from(order.subarray(from, to)).sort(compare), from);
}

/**
 * Entries in key order (see compareKeys), stable: by their code units when every key is a string (as
 * a word count's are), else by compareKeys. For spill runs and sorted keys.
 */
export function sortedByKey<T extends [unknown, unknown]>(entries: T[]): T[] {
  if (entries.every((e) => typeof e[0] === 'string')) {
    const order = sortStrings(entries.map((e) => e[0] as string));
    const sorted = new Array<T>(entries.length);
    for (let i = 0; i < order.length; i++) sorted[i] = entries[order[i] as number] as T;
    return sorted;
  }
  return entries.sort((a, b) => compareKeys(a[0], b[0]));
}
