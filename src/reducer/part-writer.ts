import type { ObjectWriter } from '../backends/object-store.js';
import { checkKey } from '../runtime/emit-checks.js';

const FLUSH_CHARS = 1 << 20;

/** Writes `{"key":K,"value":V}` lines to a part file in large chunks; emit stays synchronous. */
export class PartWriter {
  readonly #out: ObjectWriter;
  #lines: string[] = [];
  #chars = 0;
  records = 0;
  bytes = 0;

  constructor(out: ObjectWriter) {
    this.#out = out;
  }

  readonly emit = (key: unknown, value: unknown): void => {
    if (typeof key !== 'string') checkKey('reduce', key);
    // A string key with a finite number, the common record, skips building an object to stringify;
    // a number prints as JSON does.
    const line =
      typeof key === 'string' && typeof value === 'number' && Number.isFinite(value)
        ? `{"key":${JSON.stringify(key)},"value":${value}}`
        : JSON.stringify({ key, value: value === undefined ? null : value });
    this.#lines.push(line);
    this.#chars += line.length + 1;
    this.records++;
  };

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

  async close(): Promise<void> {
    await this.flush();
    await this.#out.close();
  }

  async abort(): Promise<void> {
    await this.#out.abort();
  }
}
