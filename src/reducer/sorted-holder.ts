import type { PartSink } from '../output/part-sink.js';
import { jsonText } from '../shuffle/json-text.js';
import { compareKeys } from '../shuffle/key-order.js';
import { BYTE_DIGITS, newDigits, RADIX_UNITS, radixOrder, sortStrings } from '../shuffle/key-sort.js';
import { endOfValue, isStringValue, type RecordReader, valueAt } from '../shuffle/record-codec.js';
import type { RecordSink } from './hash-spill.js';
import { jsonStringBytes, writeJsonString } from './json-bytes.js';
import { type ReduceHolder, spillEntries } from './reduce-holder.js';

/** Per record: its slice and start, and what sorting it takes (its index, digits, key bounds). */
const RECORD_OVERHEAD = 48;
const CHUNK_BYTES = 1 << 20;
const KEY_OPEN = Buffer.from('{"key":', 'latin1');
const VALUE_OPEN = Buffer.from(',"value":', 'latin1');

/**
 * A stage that sorts its keys and has no combiner: its records are held as they arrive, as the bytes
 * of the slices they came in, and sorted by key (stable, so a key's values keep their order) when
 * they are reduced or spilled. No table of keys: sorting groups equal keys too, as they sort next to
 * each other. String keys whose bytes sort as the strings do (see #noteKeyBytes) are sorted by their
 * bytes; other keys are decoded first. Keys and values are decoded as `reduce` walks them; with the
 * built-in `emitEach` as reduce, string keys and values never are: the part file is written from
 * their bytes.
 */
export class SortedHolder implements ReduceHolder {
  #slices: Buffer[] = [];
  #count = 0;
  /** Per record: the slice it is in, and where in it the record starts. */
  #slice: Uint32Array = new Uint32Array(1024);
  #start: Uint32Array = new Uint32Array(1024);
  /** Whether every key is a string whose UTF-8 bytes sort as the string does (see #noteKeyBytes). */
  #byteKeys = true;
  /** With #byteKeys: the first key's bytes, and how many of them every key begins with. */
  #first: Buffer | undefined;
  #firstAt = 0;
  #prefix = 0;
  readonly #emitEach: boolean;
  bytes = 0;

  /** `emitEach`: the stage's reduce is the built-in emitEach, whose lines writeDirect can write. */
  constructor(emitEach: boolean) {
    this.#emitEach = emitEach;
  }

  /** Records held (a key counted as often as it came). */
  get size(): number {
    return this.#count;
  }

  addNext(reader: RecordReader): boolean {
    if (!reader.nextRaw()) return false;
    const slices = this.#slices;
    const src = reader.bytes;
    if (slices[slices.length - 1] !== src) slices.push(src);
    const i = this.#count++;
    if (i === this.#start.length) {
      this.#slice = grown(this.#slice);
      this.#start = grown(this.#start);
    }
    this.#slice[i] = slices.length - 1;
    this.#start[i] = reader.recordStart;
    const { keyStart, keyEnd } = reader;
    if (keyStart < 0) this.#byteKeys = false;
    else if (this.#byteKeys) this.#noteKeyBytes(src, keyStart, keyEnd);
    this.bytes += RECORD_OVERHEAD + (reader.valueEnd - reader.recordStart);
    return true;
  }

  /**
   * Keeps `#byteKeys` and `#prefix` true of a string key's UTF-8: whether it holds no code point at or
   * above U+E000 (lead bytes 0xEE to 0xF4), below which UTF-8's byte order is UTF-16's code unit
   * order, and how many bytes every key so far begins with.
   */
  #noteKeyBytes(src: Buffer, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      if ((src[k] as number) >= 0xee) {
        this.#byteKeys = false;
        return;
      }
    }
    if (this.#count === 1) {
      this.#first = src;
      this.#firstAt = from;
      this.#prefix = to - from;
      return;
    }
    const first = this.#first as Buffer;
    const at = this.#firstAt;
    let p = 0;
    const most = Math.min(this.#prefix, to - from);
    while (p < most && first[at + p] === src[from + p]) p++;
    this.#prefix = p;
  }

  entries(): IterableIterator<[unknown, unknown[]]> {
    return this.sortedEntries();
  }

  spillTo(sink: RecordSink): void {
    spillEntries(this.sortedEntries(), sink);
  }

  /** Each key with its values, in key order (see compareKeys); values decoded as they are reached. */
  *sortedEntries(): IterableIterator<[unknown, unknown[]]> {
    const { order, keys } = this.#sorted();
    const key = (r: number) => keys?.[r] ?? this.#decoded(r, 0);
    for (let i = 0; i < order.length; ) {
      const first = order[i] as number;
      const k = key(first);
      const group = [this.#decoded(first, 1)];
      let j = i + 1;
      for (; j < order.length && compareKeys(key(order[j] as number), k) === 0; j++) {
        group.push(this.#decoded(order[j] as number, 1));
      }
      yield [k, group];
      i = j;
    }
  }

  /** Record r's key (`part` 0) or value (1), decoded. */
  #decoded(r: number, part: 0 | 1): unknown {
    const src = this.#slices[this.#slice[r] as number] as Buffer;
    const at = this.#start[r] as number;
    return valueAt(src, part === 0 ? at : endOfValue(src, at));
  }

  /**
   * With emitEach: every record's line, `{"key":K,"value":V}`, in key order, written from the bytes
   * held: string keys and values are escaped from their UTF-8 as JSON.stringify escapes the text (see
   * writeJsonString); others are decoded and written as JsonlSink writes them.
   */
  async writeDirect(out: PartSink): Promise<boolean> {
    // Only a JSONL part takes lines already encoded.
    const writeLines = out.writeLines?.bind(out);
    if (!this.#emitEach || writeLines === undefined) return false;
    const slices = this.#slices;
    const sliceOf = this.#slice;
    const startOf = this.#start;
    const { order } = this.#sorted();
    let buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let pos = 0;
    let lines = 0;
    for (let i = 0; i < order.length; i++) {
      const record = order[i] as number;
      const src = slices[sliceOf[record] as number] as Buffer;
      const keyAt = startOf[record] as number;
      const valueAt_ = endOfValue(src, keyAt);
      const valueEnd = endOfValue(src, valueAt_);
      const stringKey = isStringValue(src, keyAt);
      const stringValue = isStringValue(src, valueAt_);
      const keyText = stringKey ? undefined : jsonText(valueAt(src, keyAt), 'key');
      const valueText = stringValue ? undefined : jsonText(valueAt(src, valueAt_), 'value');
      const need =
        20 +
        (keyText === undefined ? jsonStringBytes(valueAt_ - keyAt - 5) : 3 * keyText.length) +
        (valueText === undefined ? jsonStringBytes(valueEnd - valueAt_ - 5) : 3 * valueText.length);
      if (pos + need > buf.length) {
        // A writer is done with a chunk once its write resolves: the one buffer serves every chunk.
        if (pos > 0) await writeLines(buf.subarray(0, pos), lines);
        if (need > buf.length) buf = Buffer.allocUnsafe(need);
        pos = 0;
        lines = 0;
      }
      for (let k = 0; k < KEY_OPEN.length; k++) buf[pos++] = KEY_OPEN[k] as number;
      if (keyText === undefined) pos = writeJsonString(src, keyAt + 5, valueAt_, buf, pos);
      else pos += buf.write(keyText, pos, 'utf8');
      for (let k = 0; k < VALUE_OPEN.length; k++) buf[pos++] = VALUE_OPEN[k] as number;
      if (valueText === undefined) pos = writeJsonString(src, valueAt_ + 5, valueEnd, buf, pos);
      else pos += buf.write(valueText, pos, 'utf8');
      buf[pos++] = 0x7d; // }
      buf[pos++] = 0x0a;
      lines++;
    }
    if (pos > 0) await writeLines(buf.subarray(0, pos), lines);
    return true;
  }

  /**
   * The records' indices in key order, stable, and the keys decoded where sorting needed them: keys
   * whose bytes sort as they do are sorted by their bytes (after the bytes all of them share), with no
   * string made; other strings by their code units; anything else by compareKeys.
   */
  #sorted(): { order: Uint32Array | number[]; keys?: unknown[] } {
    const n = this.#count;
    const slices = this.#slices;
    const sliceOf = this.#slice;
    const startOf = this.#start;
    if (this.#byteKeys) {
      // One pass over the records in the order they came (the order their bytes lie in): where each
      // key's bytes past the shared prefix are, and its first digits.
      const from = new Uint32Array(n);
      const to = new Uint32Array(n);
      const digits = newDigits(n);
      const [d0, d1, d2, d3] = digits as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
      const prefix = this.#prefix;
      for (let r = 0; r < n; r++) {
        const src = slices[sliceOf[r] as number] as Buffer;
        const at = startOf[r] as number;
        const a = at + 5 + prefix;
        const b = at + 5 + src.readUInt32LE(at + 1);
        from[r] = a;
        to[r] = b;
        d0[r] = a < b ? (src[a] as number) + 1 : 0;
        d1[r] = a + 1 < b ? (src[a + 1] as number) + 1 : 0;
        d2[r] = a + 2 < b ? (src[a + 2] as number) + 1 : 0;
        d3[r] = a + 3 < b ? (src[a + 3] as number) + 1 : 0;
      }
      const order = radixOrder(digits, BYTE_DIGITS, (x, y) =>
        compareBytes(
          slices[sliceOf[x] as number] as Buffer,
          (from[x] as number) + RADIX_UNITS,
          to[x] as number,
          slices[sliceOf[y] as number] as Buffer,
          (from[y] as number) + RADIX_UNITS,
          to[y] as number,
        ),
      );
      return { order };
    }
    const keys = Array.from({ length: n }, (_, r) => this.#decoded(r, 0));
    if (keys.every((k) => typeof k === 'string')) return { order: sortStrings(keys as string[]), keys };
    return {
      order: Array.from({ length: n }, (_, i) => i).sort((a, b) => compareKeys(keys[a], keys[b])),
      keys,
    };
  }

  clear(): void {
    this.#slices = [];
    this.#count = 0;
    this.#slice = new Uint32Array(1024);
    this.#start = new Uint32Array(1024);
    this.#byteKeys = true;
    this.#first = undefined;
    this.#prefix = 0;
    this.bytes = 0;
  }
}

function grown(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/** Compares two byte strings: bytewise, a prefix first. */
function compareBytes(x: Buffer, x0: number, x1: number, y: Buffer, y0: number, y1: number): number {
  const n = Math.min(x1 - x0, y1 - y0);
  for (let k = 0; k < n; k++) {
    const d = (x[x0 + k] as number) - (y[y0 + k] as number);
    if (d !== 0) return d;
  }
  return x1 - x0 - (y1 - y0);
}
