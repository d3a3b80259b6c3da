import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { CorruptDataError } from '../errors.js';
import { compareKeys } from './key-order.js';
import { RecordReader, RecordWriter } from './record-codec.js';

const BLOCK_BYTES = 1 << 20;

/**
 * Writes a sorted run of (key, value) records to a local file in length-prefixed blocks, so a reader
 * can walk it with bounded memory and never meets a record cut in two.
 */
export function writeSortedRun(path: string, entries: Iterable<[unknown, unknown[]]>): number {
  const fd = openSync(path, 'w');
  const w = new RecordWriter(BLOCK_BYTES + 4096);
  let bytes = 0;
  const flush = () => {
    if (w.length === 0) return;
    const head = Buffer.alloc(4);
    head.writeUInt32LE(w.length, 0);
    writeSync(fd, head);
    writeSync(fd, w.bytes());
    bytes += 4 + w.length;
    w.reset();
  };
  try {
    for (const [key, values] of entries) {
      for (const v of values) {
        w.write(key, v);
        if (w.length >= BLOCK_BYTES) flush();
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Reads a sorted run record by record, synchronously, so merged values can feed a sync iterable. */
class RunCursor {
  readonly #fd: number;
  #pos = 0;
  #reader: RecordReader | undefined;
  key: unknown;
  value: unknown;
  done = false;

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
    this.advance();
  }

  advance(): void {
    for (;;) {
      if (this.#reader?.next()) {
        this.key = this.#reader.key;
        this.value = this.#reader.value;
        return;
      }
      const head = Buffer.alloc(4);
      if (readSync(this.#fd, head, 0, 4, this.#pos) < 4) {
        this.done = true;
        closeSync(this.#fd);
        return;
      }
      const len = head.readUInt32LE(0);
      const block = Buffer.allocUnsafe(len);
      if (readSync(this.#fd, block, 0, len, this.#pos + 4) !== len) {
        throw new CorruptDataError('truncated spill run', { retryable: true });
      }
      this.#pos += 4 + len;
      this.#reader = new RecordReader(block);
    }
  }

  close(): void {
    if (!this.done) {
      this.done = true;
      closeSync(this.#fd);
    }
  }
}

/** One key and its values, merged across runs; `values` is lazy and may be walked once. */
export interface MergedGroup {
  key: unknown;
  values: Iterable<unknown>;
}

/**
 * Merges sorted runs into groups of equal keys. Values stream from disk as the caller walks them,
 * so a single key may have more values than fit in memory.
 */
export function* mergeSortedRuns(paths: readonly string[]): Generator<MergedGroup> {
  const cursors = paths.map((p) => new RunCursor(p)).filter((c) => !c.done);
  try {
    const smallest = (): RunCursor | undefined => {
      let best: RunCursor | undefined;
      for (const c of cursors) if (!c.done && (!best || compareKeys(c.key, best.key) < 0)) best = c;
      return best;
    };
    for (;;) {
      const first = smallest();
      if (!first) return;
      const key = first.key;
      let exhausted = false;
      // A plain iterator with no return(): a reducer that breaks out early must not end the merge.
      const iter: Iterator<unknown> = {
        next: () => {
          const c = exhausted ? undefined : smallest();
          if (!c || compareKeys(c.key, key) !== 0) {
            exhausted = true;
            return { done: true, value: undefined };
          }
          const value = c.value;
          c.advance();
          return { done: false, value };
        },
      };
      yield { key, values: { [Symbol.iterator]: () => iter } };
      // Skip whatever the reducer left unread of this key.
      while (!exhausted) iter.next();
    }
  } finally {
    for (const c of cursors) c.close();
  }
}
