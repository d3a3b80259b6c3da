import { sortedByKey } from '../shuffle/key-sort.js';
import { ByteArena, mixPacked, SLOT, Slots, slotHash } from '../shuffle/slots.js';
import type { RecordSink } from './hash-spill.js';
import { HEX, SHORT_ESCAPES } from './json-bytes.js';

/** Keys of at most this many bytes are packed whole into their slot. */
const PACKED_MAX = 8;
/** Estimated bytes a key costs besides its own: its slot at half load, its sum, its offset. */
const KEY_OVERHEAD = 48;

/**
 * The reduce side of the built-in `sum` combine for string keys: each record's value is added to its
 * key's sum in a table keyed by the key's UTF-8 bytes, as they come out of the shuffle. A key is
 * decoded to a string once, when the sums are handed to `reduce`, not once per record.
 *
 * Shuffle keys were encoded from strings, so they are valid UTF-8: equal bytes are equal strings. A
 * value is folded as `sum` folds two values (`0 + sum + value`, which turns -0 into 0 the same way),
 * and a key's first value is kept as it is, as combining groups keep it: the sums come out exactly as
 * the combining path gives them.
 */
export class KeySums {
  /** Per key: entry number, then the packed bytes and ~length, or the hash, arena offset and length. */
  readonly #slots: Slots;
  /** Every key's bytes, in entry order. */
  readonly #arena = new ByteArena();
  /** Where each entry's bytes start in the arena, and one more. */
  #offsets = new Int32Array((1 << 12) + 1);
  #sums = new Float64Array(1 << 12);
  #size = 0;

  /** @param expectedKeys presizes the slots (see Slots). */
  constructor(expectedKeys = 0) {
    this.#slots = new Slots(expectedKeys);
  }

  /** Distinct keys held. */
  get size(): number {
    return this.#size;
  }

  /** Estimated bytes held, for the memory budget. */
  get bytes(): number {
    return this.#size * KEY_OVERHEAD + this.#arena.used;
  }

  /**
   * Adds `value` to the sum of the key whose UTF-8 is `src[start..end)`. The probe is TokenCounter's,
   * written out as there: through a shared function it cost the map side's loop about 8%.
   */
  add(src: Uint8Array, start: number, end: number, value: number): void {
    const n = end - start;
    const { mask, data: slots } = this.#slots;
    if (n <= PACKED_MAX) {
      let lo = 0;
      let hi = 0;
      const mid = Math.min(n, 4);
      for (let k = 0; k < mid; k++) lo |= (src[start + k] as number) << (k << 3);
      for (let k = 4; k < n; k++) hi |= (src[start + k] as number) << ((k - 4) << 3);
      const tag = ~n;
      const h = mixPacked(lo, hi, n);
      for (let s = h & mask; ; s = (s + 1) & mask) {
        const b = s * SLOT;
        const e = slots[b] as number;
        if (e === 0) {
          this.#add(src, start, end, value, h, lo, hi, tag);
          return;
        }
        if (slots[b + 3] === tag && slots[b + 1] === lo && slots[b + 2] === hi) {
          this.#fold(e - 1, value);
          return;
        }
      }
    }
    let h = 0x811c9dc5;
    for (let k = start; k < end; k++) h = Math.imul(h ^ (src[k] as number), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    const arena = this.#arena.bytes;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const b = s * SLOT;
      const e = slots[b] as number;
      if (e === 0) {
        this.#add(src, start, end, value, h, h, this.#arena.used, n);
        return;
      }
      if (slots[b + 1] === h && slots[b + 3] === n) {
        const off = slots[b + 2] as number;
        let k = 0;
        while (k < n && arena[off + k] === src[start + k]) k++;
        if (k === n) {
          this.#fold(e - 1, value);
          return;
        }
      }
    }
  }

  #fold(entry: number, value: number): void {
    const sums = this.#sums;
    sums[entry] = 0 + (sums[entry] as number) + value;
  }

  /** Appends a new key with its first value; `h` places it, the fields identify it. */
  #add(
    src: Uint8Array,
    start: number,
    end: number,
    value: number,
    h: number,
    f1: number,
    f2: number,
    f3: number,
  ): void {
    const off = this.#arena.append(src, start, end);
    if (this.#size === this.#sums.length) {
      const sums = new Float64Array(this.#sums.length * 2);
      sums.set(this.#sums);
      this.#sums = sums;
      const offsets = new Int32Array(sums.length + 1);
      offsets.set(this.#offsets);
      this.#offsets = offsets;
    }
    this.#sums[this.#size] = value;
    this.#offsets[this.#size] = off;
    this.#size++;
    if (!this.#slots.fits(this.#size)) this.#slots.grow(slotHash);
    this.#slots.place(this.#size, h, f1, f2, f3);
  }

  /** Every key with its sum, as [key, [sum]] like KeyGroups, in the order keys arrived. */
  *entries(): IterableIterator<[unknown, unknown[]]> {
    const offsets = this.#offsets;
    offsets[this.#size] = this.#arena.used;
    for (let e = 0; e < this.#size; e++) {
      yield [this.#arena.bytes.toString('utf8', offsets[e], offsets[e + 1]), [this.#sums[e]]];
    }
  }

  /**
   * The part file lines `emitSum` would write for every key, `{"key":K,"value":V}` and a newline, in
   * chunks of about `chunkBytes`: the key's JSON string is made from its bytes, escaped as
   * JSON.stringify escapes (valid UTF-8 holds no lone surrogate, the one thing it escapes beyond
   * quotes, backslashes and control characters). Yields [chunk, lines in it].
   */
  *jsonLines(chunkBytes = 1 << 20): Generator<[Buffer, number]> {
    const offsets = this.#offsets;
    offsets[this.#size] = this.#arena.used;
    const arena = this.#arena.bytes;
    let buf = Buffer.allocUnsafe(chunkBytes + 64);
    let pos = 0;
    let lines = 0;
    for (let e = 0; e < this.#size; e++) {
      const from = offsets[e] as number;
      const to = offsets[e + 1] as number;
      // emitSum adds the one value to 0; a number JSON cannot hold is null, as JSON.stringify has it.
      const total = 0 + (this.#sums[e] as number);
      const value = Number.isFinite(total) ? String(total) : 'null';
      // Worst case: every key byte escaped as \u00XX.
      const need = 8 + (to - from) * 6 + 10 + value.length + 2;
      if (pos + need > buf.length) {
        if (pos > 0) {
          yield [buf.subarray(0, pos), lines];
          buf = Buffer.allocUnsafe(Math.max(chunkBytes + 64, need));
          pos = 0;
          lines = 0;
        } else buf = Buffer.allocUnsafe(need);
      }
      pos += buf.write('{"key":"', pos, 'latin1');
      for (let k = from; k < to; k++) {
        const c = arena[k] as number;
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
          buf[pos++] = c;
          continue;
        }
        buf[pos++] = 0x5c;
        const short = c === 0x22 || c === 0x5c ? c : SHORT_ESCAPES[c];
        if (short !== undefined && short !== 0) buf[pos++] = short;
        else {
          buf[pos++] = 0x75; // u00XX, lowercase hex as JSON.stringify writes it
          buf[pos++] = 0x30;
          buf[pos++] = 0x30;
          buf[pos++] = HEX[c >> 4] as number;
          buf[pos++] = HEX[c & 15] as number;
        }
      }
      pos += buf.write(`","value":${value}}\n`, pos, 'latin1');
      lines++;
    }
    if (pos > 0) yield [buf.subarray(0, pos), lines];
  }

  /** Writes every key, as its bytes, with its sum to `sink`. */
  spillTo(sink: RecordSink): void {
    const offsets = this.#offsets;
    offsets[this.#size] = this.#arena.used;
    const arena = this.#arena.bytes;
    for (let e = 0; e < this.#size; e++) {
      sink.writeUtf8Key(arena, offsets[e] as number, offsets[e + 1] as number, this.#sums[e]);
    }
  }

  /** Entries in key order (see compareKeys), for sorted spill runs. */
  sortedEntries(): [unknown, unknown[]][] {
    return sortedByKey([...this.entries()]);
  }

  clear(): void {
    this.#slots.clear();
    this.#arena.used = 0;
    this.#size = 0;
  }
}
