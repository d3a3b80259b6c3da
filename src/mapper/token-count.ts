import { isUtf8 } from 'node:buffer';
import { fnv1aBytes } from '../shuffle/hash.js';
import { hashPartition } from '../shuffle/key-order.js';
import type { RecordWriter } from '../shuffle/record-codec.js';
import { ByteArena, mixPacked, SLOT, Slots, slotHash } from '../shuffle/slots.js';

const NL = 0x0a;
/** Tokens of at most this many bytes are packed whole into their slot. */
const PACKED_MAX = 8;
/** Estimated bytes a key costs besides its own: its slot (where its count is too) at half load. */
const KEY_OVERHEAD = 48;

/**
 * Length of the whitespace character at `b[i]` (as JavaScript's /\s/ has it), or 0. ASCII tab, line
 * feed, vertical tab, form feed, carriage return and space; then, in UTF-8: U+00A0, U+1680,
 * U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 and U+FEFF.
 */
export function spaceAt(b: Uint8Array, i: number, end: number): number {
  const c = b[i] as number;
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return 1;
  if (c < 0xc2) return 0;
  if (c === 0xc2) return i + 1 < end && b[i + 1] === 0xa0 ? 2 : 0;
  if (c < 0xe1 || c > 0xef || i + 2 >= end) return 0;
  const c1 = b[i + 1] as number;
  const c2 = b[i + 2] as number;
  switch (c) {
    case 0xe1:
      return c1 === 0x9a && c2 === 0x80 ? 3 : 0;
    case 0xe2:
      if (c1 === 0x80) return (c2 >= 0x80 && c2 <= 0x8a) || c2 === 0xa8 || c2 === 0xa9 || c2 === 0xaf ? 3 : 0;
      return c1 === 0x81 && c2 === 0x9f ? 3 : 0;
    case 0xe3:
      return c1 === 0x80 && c2 === 0x80 ? 3 : 0;
    case 0xef:
      return c1 === 0xbb && c2 === 0xbf ? 3 : 0;
    default:
      return 0;
  }
}

/**
 * The built-in token count (`countTokens` with `sum`) run over bytes: it finds the tokens of each run
 * of lines and counts them in an open-addressing table keyed by their bytes. A token of up to 8 bytes
 * (most words) is packed whole into its slot, as StringTable packs short strings; a longer one is
 * hashed and compared against an arena. No string is made per token: with the default partitioner
 * the keys' bytes go straight into the shuffle (writeRecords); otherwise each key is decoded once,
 * when the counts are written out. A map task over 32 MiB of the word count corpus takes about 0.31 s
 * this way, against about 0.88 s with the same map and combine called per line and per token. About
 * 40% of what is left is the cache miss on a rare word's slot.
 *
 * Decoded keys equal the tokens `line.split(/\s+/)` gives: whitespace is matched only as whole, valid
 * UTF-8 sequences, which a decoder never folds into a neighbouring invalid one. Two different invalid
 * byte runs can decode to the same string (U+FFFD), so a table that saw invalid UTF-8 merges by the
 * decoded string on the way out.
 */
export class TokenCounter {
  /** Lines and tokens counted so far: the task's input and output records. */
  lines = 0;
  tokens = 0;
  /**
   * Per key: its count, then the packed bytes (two words) and ~length for a key of at most 8 bytes, or
   * the hash, arena offset and length for a longer one. The count sits in the slot, where the probe
   * already is: a separate array of counts cost a second cache miss per token.
   */
  readonly #slots: Slots;
  /** The bytes of every key longer than a packed one. */
  readonly #arena = new ByteArena();
  #size = 0;
  #invalidUtf8 = false;
  /** A slot's count is moved here, by the key's bytes as latin1 text, before it would overflow. */
  readonly #overflow = new Map<string, number>();
  readonly #countLimit: number;

  /**
   * @param expectedKeys presizes the slots (see Slots).
   * @param countLimit a slot's count is moved aside when it reaches this (lower only in tests).
   */
  constructor(expectedKeys = 0, countLimit = 2 ** 30) {
    this.#slots = new Slots(expectedKeys);
    this.#countLimit = countLimit;
  }

  /** Distinct byte keys held. */
  get size(): number {
    return this.#size;
  }

  /** Estimated bytes held, for the memory budget. */
  get bytes(): number {
    return this.#size * KEY_OVERHEAD + this.#arena.used;
  }

  /** Counts the lines and tokens of one run of whole lines (lines joined by `\n`). */
  addRun(run: Uint8Array): void {
    const end = run.length;
    let lines = 1;
    let tokens = 0;
    let i = 0;
    let { mask, data: slots } = this.#slots;
    let arena = this.#arena.bytes;
    const limit = this.#countLimit;
    while (i < end) {
      // Skip whitespace, counting the newlines between the run's lines.
      let c = run[i] as number;
      if (c <= 0x20 || c >= 0xc2) {
        let w = c === 0x20 ? 1 : spaceAt(run, i, end);
        while (w > 0) {
          if (c === NL) lines++;
          i += w;
          if (i >= end) break;
          c = run[i] as number;
          w = c === 0x20 ? 1 : c < 0x20 || c >= 0xc2 ? spaceAt(run, i, end) : 0;
        }
        if (i >= end) break;
      }
      // The token: find its end. Printable ASCII is never whitespace; only a space, a control byte
      // or a multi-byte lead can start it. Its last 8 bytes are shifted in as they are scanned,
      // big-endian across `hi` and `lo`, so a packed token needs no loops of its own over its bytes,
      // whose trip counts (its length) vary: that was about 8% of the map task (mispredicted exits).
      const start = i;
      let lo = c;
      let hi = 0;
      while (++i < end) {
        c = run[i] as number;
        // One unsigned compare passes 0x21-0xc1 (never whitespace); the rest are looked at.
        if ((c - 0x21) >>> 0 >= 0xa1 && (c === 0x20 || spaceAt(run, i, end) > 0)) break;
        hi = (hi << 8) | (lo >>> 24);
        lo = (lo << 8) | c;
      }
      tokens++;
      const n = i - start;
      // The packing, hashing and probing are written out here, not called: this loop runs once per
      // token, and doing them through shared functions cost it about 8% on the word count corpus.
      if (n <= PACKED_MAX) {
        // Packed whole into two words: its slot alone both places and identifies it.
        const tag = ~n;
        const h = mixPacked(lo, hi, n);
        for (let s = h & mask; ; s = (s + 1) & mask) {
          const b = s * SLOT;
          const e = slots[b] as number;
          if (e === 0) {
            this.#add(run, start, i, h, lo, hi, tag);
            ({ mask, data: slots } = this.#slots);
            break;
          }
          if (slots[b + 3] === tag && slots[b + 1] === lo && slots[b + 2] === hi) {
            slots[b] = e + 1;
            if (e + 1 === limit) this.#moveCount(b);
            break;
          }
        }
        continue;
      }
      let h = 0x811c9dc5;
      for (let k = start; k < i; k++) h = Math.imul(h ^ (run[k] as number), 0x01000193);
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      for (let s = h & mask; ; s = (s + 1) & mask) {
        const b = s * SLOT;
        const e = slots[b] as number;
        if (e === 0) {
          this.#add(run, start, i, h, h, this.#arena.append(run, start, i), n);
          ({ mask, data: slots } = this.#slots);
          arena = this.#arena.bytes;
          break;
        }
        if (slots[b + 1] === h && slots[b + 3] === n) {
          const off = slots[b + 2] as number;
          let k = 0;
          while (k < n && arena[off + k] === run[start + k]) k++;
          if (k === n) {
            slots[b] = e + 1;
            if (e + 1 === limit) this.#moveCount(b);
            break;
          }
        }
      }
    }
    this.lines += lines;
    this.tokens += tokens;
  }

  /** Gives a new key its slot, with a count of 1; `h` places it, the fields identify it. */
  #add(run: Uint8Array, start: number, stop: number, h: number, f1: number, f2: number, f3: number): void {
    if (!this.#invalidUtf8 && !isAscii(run, start, stop) && !isUtf8(run.subarray(start, stop))) {
      this.#invalidUtf8 = true;
    }
    this.#size++;
    if (!this.#slots.fits(this.#size)) this.#slots.grow(slotHash);
    this.#slots.place(1, h, f1, f2, f3);
  }

  /** The bytes of the key in the slot at `b`: unpacked into `scratch`, or a view of the arena. */
  #keyBytes(b: number, scratch: Buffer): Buffer {
    const slots = this.#slots.data;
    const f3 = slots[b + 3] as number;
    if (f3 >= 0) {
      const off = slots[b + 2] as number;
      return this.#arena.bytes.subarray(off, off + f3);
    }
    // Packed big-endian, the last byte lowest in the low word: the key is the last ~f3 of the 8.
    scratch.writeInt32BE(slots[b + 2] as number, 0);
    scratch.writeInt32BE(slots[b + 1] as number, 4);
    return scratch.subarray(8 + f3 + 1);
  }

  /** Moves the count of the slot at `b` to the overflow map, leaving 1 (an occupied slot). */
  #moveCount(b: number): void {
    const slots = this.#slots.data;
    const key = this.#keyBytes(b, Buffer.alloc(8)).toString('latin1');
    this.#overflow.set(key, (this.#overflow.get(key) ?? 0) + (slots[b] as number) - 1);
    slots[b] = 1;
  }

  /** The count of the key in the slot at `b`, whose bytes are `bytes`: the slot's and any moved aside. */
  #countAt(b: number, bytes: Buffer): number {
    const count = this.#slots.data[b] as number;
    const overflow = this.#overflow;
    return overflow.size > 0 ? count + (overflow.get(bytes.toString('latin1')) ?? 0) : count;
  }

  /** Every token with its count, as [key, [count]] like KeyGroups; decodes each key once. */
  *entries(): IterableIterator<[unknown, unknown[]]> {
    const slots = this.#slots.data;
    const scratch = Buffer.alloc(8);
    if (!this.#invalidUtf8) {
      for (let b = 0; b < slots.length; b += SLOT) {
        if (slots[b] === 0) continue;
        const bytes = this.#keyBytes(b, scratch);
        yield [bytes.toString('utf8'), [this.#countAt(b, bytes)]];
      }
      return;
    }
    const merged = new Map<string, number>();
    for (let b = 0; b < slots.length; b += SLOT) {
      if (slots[b] === 0) continue;
      const bytes = this.#keyBytes(b, scratch);
      const key = bytes.toString('utf8');
      merged.set(key, (merged.get(key) ?? 0) + this.#countAt(b, bytes));
    }
    for (const [key, count] of merged) yield [key, [count]];
  }

  /**
   * Writes every token with its count into `writers`, one per partition, as the default partitioner
   * (hashPartition) places them: the same records as writing entries() out, without decoding a key to
   * a string and encoding it back.
   */
  writeRecords(writers: readonly RecordWriter[]): void {
    const n = writers.length;
    if (this.#invalidUtf8) {
      // Keys merged by decoded string (see entries()).
      for (const [key, [count]] of this.entries())
        (writers[hashPartition(key, n)] as RecordWriter).write(key, count);
      return;
    }
    const slots = this.#slots.data;
    const scratch = Buffer.alloc(8);
    for (let b = 0; b < slots.length; b += SLOT) {
      if (slots[b] === 0) continue;
      const bytes = this.#keyBytes(b, scratch);
      const len = bytes.length;
      // hashPartition hashes the key's UTF-16 code units: for ASCII, fnv1aBytes gives the same hash.
      const p = isAscii(bytes, 0, len)
        ? fnv1aBytes(bytes, 0, len) % n
        : hashPartition(bytes.toString('utf8'), n);
      (writers[p] as RecordWriter).writeUtf8Key(bytes, 0, len, this.#countAt(b, bytes));
    }
  }

  /** Drops the keys (after a spill); the counters of lines and tokens go on. */
  clear(): void {
    this.#slots.clear();
    this.#arena.used = 0;
    this.#size = 0;
    this.#invalidUtf8 = false;
    this.#overflow.clear();
  }
}

/** Whether `b[start..end)` is all ASCII. */
function isAscii(b: Uint8Array, start: number, end: number): boolean {
  let any = 0;
  for (let i = start; i < end; i++) any |= b[i] as number;
  return any < 0x80;
}
