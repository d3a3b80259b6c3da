import { jsonText } from '../shuffle/json-text.js';
import type { ObjectWriter } from '../store/object-store.js';
import { checkKey, checkValue } from '../task/emit-checks.js';
import type { PartSink } from './part-sink.js';

const FLUSH_CHARS = 1 << 20;

/**
 * A JSONL part file: a reduce's `{"key":K,"value":V}` lines, or a map-only stage's records one per
 * line, written in large chunks; emit stays synchronous.
 */
export class JsonlSink implements PartSink {
  readonly #out: ObjectWriter;
  #lines: string[] = [];
  #chars = 0;
  records = 0;
  bytes = 0;

  constructor(out: ObjectWriter) {
    this.#out = out;
  }

  readonly emit = (key: unknown, value: unknown): void => {
    // A string key with a finite number or a string, the common records, skips building an object
    // to stringify; a number prints as JSON does.
    const line =
      typeof key === 'string' && typeof value === 'number' && Number.isFinite(value)
        ? `{"key":${JSON.stringify(key)},"value":${value}}`
        : typeof key === 'string' && typeof value === 'string'
          ? `{"key":${JSON.stringify(key)},"value":${JSON.stringify(value)}}`
          : lineOf(key, value);
    this.#lines.push(line);
    this.#chars += line.length + 1;
    this.records++;
  };

  readonly write = (record: unknown): void => {
    checkValue('map', record);
    const line = jsonText(record, 'value');
    this.#lines.push(line);
    this.#chars += line.length + 1;
    this.records++;
  };

  readonly columns = undefined;

  /** Whether a chunk is ready: call flush() before more emits. */
  get full(): boolean {
    return this.#chars >= FLUSH_CHARS;
  }

  async flush(): Promise<void> {
    if (this.#lines.length === 0) return;
    this.#lines.push('');
    const chunk = Buffer.from(this.#lines.join('\n'));
    this.#lines = [];
    this.#chars = 0;
    this.bytes += chunk.length;
    await this.#out.write(chunk);
  }

  /** Writes `records` whole lines already encoded (each ending in a newline), after any emitted. */
  async writeLines(chunk: Uint8Array, records: number): Promise<void> {
    await this.flush();
    this.records += records;
    this.bytes += chunk.length;
    await this.#out.write(chunk);
  }

  async close(): Promise<boolean> {
    await this.flush();
    await this.#out.close();
    return true;
  }

  async abort(): Promise<void> {
    await this.#out.abort();
  }
}

/**
 * A record's line off the fast path, after refusing what JSON cannot write: JSON.stringify would drop
 * a function or symbol value without a word (`{"key":"a"}`) and throw a TypeError on a BigInt or a
 * circular object. An undefined value is written as null.
 */
function lineOf(key: unknown, value: unknown): string {
  if (typeof key !== 'string') checkKey('reduce', key);
  if (typeof value !== 'number') checkValue('reduce', value, true);
  try {
    return jsonText({ key, value: value === undefined ? null : value }, 'value');
  } catch (err) {
    // Name the part at fault: the key, if it alone cannot be written, else the value.
    if (typeof key === 'object') jsonText(key, 'key');
    throw err;
  }
}
