const INITIAL_BITS = 12;
/** Presizing stops at 2^22 slots (64 MiB); past that a table grows as keys arrive. */
const MAX_PRESIZE_BITS = 22;

/**
 * Int32 fields per slot: first a number that is never 0 in a used slot (0 marks an empty one: the
 * table's entry number plus one, or a count), then three of the table's.
 */
export const SLOT = 4;

/**
 * The slot array of an open-addressing table with linear probing, kept under half full. Tables probe
 * `data` themselves, in their hot loops; this holds what they share: sizing, placing and growing.
 */
export class Slots {
  mask: number;
  data: Int32Array;

  /**
   * @param expectedKeys sizes the slots for this many keys up front: growing places every key again,
   *   a cache miss each, which cost a word count map task (250,000 keys) about 50 ms per grown table.
   */
  constructor(expectedKeys = 0) {
    let bits = INITIAL_BITS;
    while (bits < MAX_PRESIZE_BITS && 1 << bits < expectedKeys * 2) bits++;
    this.mask = (1 << bits) - 1;
    this.data = new Int32Array(SLOT << bits);
  }

  /** Whether `entries` keys fit under the load limit; if not, call grow() before placing the next. */
  fits(entries: number): boolean {
    return entries * 2 <= this.mask + 1;
  }

  /** Puts an entry in the first free slot from `h` on. */
  place(entry: number, h: number, f1: number, f2: number, f3: number): void {
    const mask = this.mask;
    const data = this.data;
    let s = h & mask;
    while (data[s * SLOT] !== 0) s = (s + 1) & mask;
    const b = s * SLOT;
    data[b] = entry;
    data[b + 1] = f1;
    data[b + 2] = f2;
    data[b + 3] = f3;
  }

  /** Doubles the slots and places every entry again at the hash its fields give. */
  grow(hashOf: (f1: number, f2: number, f3: number) => number): void {
    const old = this.data;
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.data = new Int32Array(size * SLOT);
    for (let b = 0; b < old.length; b += SLOT) {
      const e = old[b] as number;
      if (e === 0) continue;
      const f1 = old[b + 1] as number;
      const f2 = old[b + 2] as number;
      const f3 = old[b + 3] as number;
      this.place(e, hashOf(f1, f2, f3), f1, f2, f3);
    }
  }

  /** Empties every slot; the capacity stays. */
  clear(): void {
    this.data.fill(0);
  }
}

/**
 * Slot position of a packed key: its two words and length multiplied together, then MurmurHash3's
 * final mix, so keys that differ only in their last characters (sequence numbers, zero-padded ids)
 * still spread over the low bits. One xorshift fewer left a million zero-padded ids probing 2.3 slots
 * on average against 1.45.
 */
export function mixPacked(lo: number, hi: number, n: number): number {
  let h = Math.imul(lo ^ Math.imul(hi ^ n, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Where a slot's key hashes to: a packed key stores its length complemented (negative); a long key its hash. */
export function slotHash(f1: number, f2: number, f3: number): number {
  return f3 < 0 ? mixPacked(f1, f2, ~f3) : f1;
}

/** Bytes of keys kept back to back, for tables that compare long keys against them. */
export class ByteArena {
  bytes = Buffer.allocUnsafe(1 << 16);
  used = 0;

  /** Copies `src[start..end)` in; returns its offset. `bytes` may be a new buffer afterwards. */
  append(src: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (this.used + n > this.bytes.length) {
      const next = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + n));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    const off = this.used;
    const bytes = this.bytes;
    for (let k = 0; k < n; k++) bytes[off + k] = src[start + k] as number;
    this.used += n;
    return off;
  }
}
