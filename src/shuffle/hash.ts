/** 32-bit FNV-1a over UTF-16 code units: fast, stable across processes and platforms. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * fnv1a over bytes, `b[start..end)`: for ASCII bytes the same hash fnv1a gives the string they spell,
 * so a key kept as bytes can be placed without decoding it.
 */
export function fnv1aBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}
