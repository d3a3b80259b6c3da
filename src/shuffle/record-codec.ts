import { CorruptDataError, NotJsonError } from '../errors.js';
import { jsonText, nonJsonKind } from './json-text.js';

/**
 * The framed binary record format of shuffle objects and spill runs: each record is a key then a
 * value, each a one-byte tag and a payload. Strings and small integers, the common keys and values,
 * skip JSON entirely; anything else is carried as JSON text.
 */
const TAG_STRING = 0;
const TAG_INT = 1;
const TAG_FLOAT = 2;
const TAG_TRUE = 3;
const TAG_FALSE = 4;
const TAG_NULL = 5;
const TAG_JSON = 6;

/** Appends records to a growable buffer. */
export class RecordWriter {
  #buf: Buffer;
  #pos = 0;
  records = 0;

  constructor(initialBytes = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(extra: number): void {
    if (this.#pos + extra <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  write(key: unknown, value: unknown): void {
    this.#value(key);
    this.#value(value);
    this.records++;
  }

  /**
   * Writes a record whose key is a string given as its UTF-8 bytes, `src[start..end)`, which must be
   * valid UTF-8: the record reads back as write(the decoded string, value) would.
   */
  writeUtf8Key(src: Uint8Array, start: number, end: number, value: unknown): void {
    const n = end - start;
    this.#ensure(5 + n);
    const buf = this.#buf;
    const at = this.#pos;
    buf[at] = TAG_STRING;
    buf.writeUInt32LE(n, at + 1);
    for (let k = 0; k < n; k++) buf[at + 5 + k] = src[start + k] as number;
    this.#pos = at + 5 + n;
    this.#value(value);
    this.records++;
  }

  #value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.#text(TAG_STRING, v);
        return;
      case 'number':
        if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) {
          this.#ensure(5);
          this.#buf[this.#pos] = TAG_INT;
          this.#buf.writeInt32LE(v, this.#pos + 1);
          this.#pos += 5;
        } else {
          this.#ensure(9);
          this.#buf[this.#pos] = TAG_FLOAT;
          this.#buf.writeDoubleLE(v, this.#pos + 1);
          this.#pos += 9;
        }
        return;
      case 'boolean':
        this.#ensure(1);
        this.#buf[this.#pos++] = v ? TAG_TRUE : TAG_FALSE;
        return;
      default:
        if (v === null) {
          this.#ensure(1);
          this.#buf[this.#pos++] = TAG_NULL;
          return;
        }
        if (typeof v !== 'object') {
          throw new NotJsonError(`emitted ${nonJsonKind('value', v)}`, { retryable: false });
        }
        this.#text(TAG_JSON, jsonText(v, 'value'));
    }
  }

  #text(tag: number, s: string): void {
    // Reserve the worst case (3 bytes per UTF-16 unit), write, then fill in the real length.
    this.#ensure(5 + s.length * 3);
    const at = this.#pos;
    this.#buf[at] = tag;
    const n = this.#buf.write(s, at + 5, 'utf8');
    this.#buf.writeUInt32LE(n, at + 1);
    this.#pos = at + 5 + n;
  }

  /**
   * Moves every record of `other` to the end of this writer and empties `other`. Into an empty
   * writer nothing is copied: the two swap buffers.
   */
  takeFrom(other: RecordWriter): void {
    if (this.#pos === 0) {
      [this.#buf, other.#buf] = [other.#buf, this.#buf];
      this.#pos = other.#pos;
    } else {
      this.#ensure(other.#pos);
      other.#buf.copy(this.#buf, this.#pos, 0, other.#pos);
      this.#pos += other.#pos;
    }
    this.records += other.records;
    other.reset();
  }

  /** The bytes written so far (a view; copy before writing more if kept). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  reset(): void {
    this.#pos = 0;
    this.records = 0;
  }
}

/** Reads records back from bytes written by RecordWriter. */
export class RecordReader {
  readonly #buf: Buffer;
  #pos = 0;
  key: unknown = undefined;
  value: unknown = undefined;

  constructor(bytes: Uint8Array) {
    this.#buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Where the last record's key is in `bytes` when nextKeyBytes() left it as UTF-8; else -1. */
  keyStart = -1;
  keyEnd = -1;

  /** Loads the next record into `key` and `value`; false at the end. */
  next(): boolean {
    if (this.#pos >= this.#buf.length) return false;
    this.key = this.#value();
    this.value = this.#value();
    return true;
  }

  /** The bytes read from. */
  get bytes(): Buffer {
    return this.#buf;
  }

  /**
   * Like next(), but a string key is not decoded: `key` is undefined and `bytes[keyStart..keyEnd)`
   * holds its UTF-8. Other keys are decoded into `key`, with `keyStart` -1.
   */
  nextKeyBytes(): boolean {
    const b = this.#buf;
    const at = this.#pos;
    if (at >= b.length) return false;
    if (b[at] === TAG_STRING) {
      const end = at + 5 + b.readUInt32LE(at + 1);
      if (end > b.length) throw new CorruptDataError('truncated record', { retryable: true });
      this.key = undefined;
      this.keyStart = at + 5;
      this.keyEnd = end;
      this.#pos = end;
    } else {
      this.key = this.#value();
      this.keyStart = -1;
      this.keyEnd = -1;
    }
    this.value = this.#value();
    return true;
  }

  /** Where the last record starts in `bytes`, and its value (tag first), after nextRaw(). */
  recordStart = -1;
  valueStart = -1;
  valueEnd = -1;

  /**
   * Steps over the next record without decoding it: it is at `bytes[recordStart..valueEnd)`, its
   * value at `[valueStart..valueEnd)` (tag first, for valueAt()), and a string key's UTF-8 at
   * `[keyStart..keyEnd)` (`keyStart` -1 for other keys, which valueAt(bytes, recordStart) decodes).
   * False at the end.
   */
  nextRaw(): boolean {
    const b = this.#buf;
    const at = this.#pos;
    if (at >= b.length) return false;
    const v = this.#endOf(at);
    const end = this.#endOf(v);
    this.recordStart = at;
    this.keyStart = b[at] === TAG_STRING ? at + 5 : -1;
    this.keyEnd = b[at] === TAG_STRING ? v : -1;
    this.valueStart = v;
    this.valueEnd = end;
    this.#pos = end;
    return true;
  }

  /** Where the key or value whose tag is at `at` ends, checked to lie within the bytes. */
  #endOf(at: number): number {
    const b = this.#buf;
    const tag = b[at];
    if (tag === undefined || (at + 5 > b.length && (tag === TAG_STRING || tag === TAG_JSON))) {
      throw new CorruptDataError('truncated record', { retryable: true });
    }
    if (tag > TAG_JSON)
      throw new CorruptDataError(`bad record tag ${tag} at byte ${at}`, { retryable: true });
    const end = endOfValue(b, at);
    if (end > b.length) throw new CorruptDataError('truncated record', { retryable: true });
    return end;
  }

  #value(): unknown {
    const b = this.#buf;
    const at = this.#pos;
    if (at >= b.length) throw new CorruptDataError('truncated record', { retryable: true });
    switch (b[at]) {
      case TAG_STRING:
      case TAG_JSON: {
        const n = b.readUInt32LE(at + 1);
        const end = at + 5 + n;
        if (end > b.length) throw new CorruptDataError('truncated record', { retryable: true });
        const s = b.toString('utf8', at + 5, end);
        this.#pos = end;
        return b[at] === TAG_STRING ? s : JSON.parse(s);
      }
      case TAG_INT:
        this.#pos = at + 5;
        return b.readInt32LE(at + 1);
      case TAG_FLOAT:
        this.#pos = at + 9;
        return b.readDoubleLE(at + 1);
      case TAG_TRUE:
        this.#pos = at + 1;
        return true;
      case TAG_FALSE:
        this.#pos = at + 1;
        return false;
      case TAG_NULL:
        this.#pos = at + 1;
        return null;
      default:
        throw new CorruptDataError(`bad record tag ${b[at]} at byte ${at}`, { retryable: true });
    }
  }
}

/** Where the value (or key) whose tag is at `bytes[at]` ends, for bytes nextRaw() checked whole. */
export function endOfValue(bytes: Buffer, at: number): number {
  switch (bytes[at]) {
    case TAG_STRING:
    case TAG_JSON:
      return at + 5 + bytes.readUInt32LE(at + 1);
    case TAG_INT:
      return at + 5;
    case TAG_FLOAT:
      return at + 9;
    default:
      return at + 1;
  }
}

/** Decodes the one key or value whose tag is at `bytes[at]`, which nextRaw() checked is whole. */
export function valueAt(bytes: Buffer, at: number): unknown {
  switch (bytes[at]) {
    case TAG_STRING:
      return bytes.toString('utf8', at + 5, at + 5 + bytes.readUInt32LE(at + 1));
    case TAG_JSON:
      return JSON.parse(bytes.toString('utf8', at + 5, at + 5 + bytes.readUInt32LE(at + 1)));
    case TAG_INT:
      return bytes.readInt32LE(at + 1);
    case TAG_FLOAT:
      return bytes.readDoubleLE(at + 1);
    case TAG_TRUE:
      return true;
    case TAG_FALSE:
      return false;
    case TAG_NULL:
      return null;
    default:
      throw new CorruptDataError(`bad record tag ${bytes[at]} at byte ${at}`, { retryable: true });
  }
}

/** Whether the value at `bytes[at]` is a string: its UTF-8 is then at `[at + 5, end)`. */
export const isStringValue = (bytes: Uint8Array, at: number): boolean => bytes[at] === TAG_STRING;
