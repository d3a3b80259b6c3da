import { type BadRecordError, tooManyBadRecords } from '../errors.js';
import { previewLine } from '../job/preview-line.js';
import type { SkippedRecords, Split } from '../protocol/task-types.js';
import { objectName } from '../store/object-name.js';
import type { ObjectStore, ObjectWriter } from '../store/object-store.js';
import { describeLine } from './record-position.js';

/** One skipped record as written to `_bad_records/`, one JSON object per line. */
export interface BadRecord {
  file: string;
  /** 1-based, blank and header lines counted; from `afterByte` on when that is set (describeLine). */
  line: number;
  /** Set when the split did not start the file: `line` counts from its first line. */
  afterByte?: number;
  reason: string;
  /** The line as read, cut after MAX_TEXT characters. */
  text: string;
  /** Set when `text` was cut. */
  truncated?: true;
}

/** Characters of a bad line kept: enough to see what is wrong, bounded for a file of long lines. */
export const MAX_TEXT = 1000;

/**
 * The records one map attempt skipped under `onBadRecord: 'skip'`: counted, and written to one
 * object in the output store, opened on the first (an attempt that skips nothing writes nothing).
 * Records are added in the map loop, which cannot wait; `flush` writes them between batches.
 */
export class BadRecordLog {
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #max: number;
  #count = 0;
  #first: string | undefined;
  #pending: string[] = [];
  #writer: ObjectWriter | undefined;

  constructor(store: ObjectStore, key: string, max: number) {
    this.#store = store;
    this.#key = key;
    this.#max = max;
  }

  /**
   * Notes that line `n` of `split`, `text`, is bad for the reason `err` gives.
   * @throws {TooManyBadRecordsError} once this attempt alone has more than the job allows.
   */
  add(split: Split, n: number, text: string, err: BadRecordError): void {
    this.#count++;
    // The message quotes the line; the record holds the line itself, so its reason does without.
    const quoted = `: ${previewLine(text)}`;
    const reason = err.message.endsWith(quoted) ? err.message.slice(0, -quoted.length) : err.message;
    this.#first ??= `${describeLine(split, n)}: ${err.message}`;
    if (this.#count > this.#max) throw tooManyBadRecords(this.#count, this.#max, this.#first);
    const record: BadRecord = {
      file: objectName(split),
      line: n,
      ...(split.start > 0 && { afterByte: split.start }),
      reason,
      text: text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text,
      ...(text.length > MAX_TEXT && { truncated: true as const }),
    };
    this.#pending.push(`${JSON.stringify(record)}\n`);
  }

  /** Writes the records added since the last flush. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#writer ??= await this.#store.openWriter(this.#key);
    await this.#writer.write(Buffer.from(text));
  }

  /** Publishes the records, if there are any, and says what was skipped. */
  async close(): Promise<SkippedRecords | undefined> {
    await this.flush();
    if (!this.#writer || this.#first === undefined) return undefined;
    await this.#writer.close();
    return { count: this.#count, first: this.#first, key: this.#key };
  }

  /** Drops what was written: a failed attempt leaves no bad records behind. */
  async abort(): Promise<void> {
    this.#pending = [];
    await this.#writer?.abort();
  }
}
