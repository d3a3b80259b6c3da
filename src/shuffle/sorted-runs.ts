import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import { compareKeys } from './key-order.js';
import { RecordReader, RecordWriter } from './record-codec.js';

const BLOCK_BYTES = 1 << 20;
/** A block's head: its length and the CRC-32 of its bytes, each a u32 LE. */
const HEAD_BYTES = 8;

/**
 * Writes a sorted run of (key, value) records to a local file in length-prefixed blocks, so a reader
 * can walk it with bounded memory and never meets a record cut in two. Each block carries a CRC-32:
 * a changed byte in a key would otherwise merge as another key, and the answer would be wrong.
 */
export function writeSortedRun(path: string, entries: Iterable<[unknown, unknown[]]>): number {
  const fd = openSync(path, 'w');
  const w = new RecordWriter(BLOCK_BYTES + 4096);
  let bytes = 0;
  const flush = () => {
    if (w.length === 0) return;
    const block = w.bytes();
    const head = Buffer.alloc(HEAD_BYTES);
    head.writeUInt32LE(block.length, 0);
    head.writeUInt32LE(crc32(block), 4);
    writeSync(fd, head);
    writeSync(fd, block);
    bytes += HEAD_BYTES + block.length;
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
  readonly #path: string;
  readonly #fd: number;
  #pos = 0;
  #reader: RecordReader | undefined;
  /** The run's place among those merged: equal keys merge in run order. */
  readonly run: number;
  key: unknown;
  value: unknown;
  done = false;

  constructor(path: string, run: number) {
    this.#path = path;
    this.run = run;
    this.#fd = openSync(path, 'r');
    try {
      this.advance();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  advance(): void {
    for (;;) {
      if (this.#reader?.next()) {
        this.key = this.#reader.key;
        this.value = this.#reader.value;
        return;
      }
      const head = Buffer.alloc(HEAD_BYTES);
      const got = readSync(this.#fd, head, 0, HEAD_BYTES, this.#pos);
      if (got === 0) {
        this.done = true;
        closeSync(this.#fd);
        return;
      }
      // The retry writes its runs afresh, so a bad one is worth another attempt.
      if (got < HEAD_BYTES) throw this.#corrupt('truncated');
      const len = head.readUInt32LE(0);
      const block = Buffer.allocUnsafe(len);
      if (readSync(this.#fd, block, 0, len, this.#pos + HEAD_BYTES) !== len) throw this.#corrupt('truncated');
      if (crc32(block) !== head.readUInt32LE(4)) throw this.#corrupt('checksum mismatch in');
      this.#pos += HEAD_BYTES + len;
      this.#reader = new RecordReader(block);
    }
  }

  #corrupt(what: string): CorruptDataError {
    return new CorruptDataError(`${what} spill run ${this.#path} at byte ${this.#pos}`, { retryable: true });
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
  const cursors: RunCursor[] = [];
  try {
    for (const [i, p] of paths.entries()) cursors.push(new RunCursor(p, i));
    // A binary heap of the cursors not done, smallest key on top; equal keys by run, so a key's
    // values come run by run in the order the runs were written.
    const before = (x: RunCursor, y: RunCursor): boolean => {
      const c = compareKeys(x.key, y.key);
      return c < 0 || (c === 0 && x.run < y.run);
    };
    const heap = cursors.filter((c) => !c.done);
    const siftDown = (at: number) => {
      const n = heap.length;
      const c = heap[at] as RunCursor;
      let i = at;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap[child + 1] as RunCursor, heap[child] as RunCursor)) child++;
        if (!before(heap[child] as RunCursor, c)) break;
        heap[i] = heap[child] as RunCursor;
        i = child;
      }
      heap[i] = c;
    };
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
    /** Moves the top cursor to its next record and restores the heap. */
    const advanceTop = () => {
      const top = heap[0] as RunCursor;
      top.advance();
      if (top.done) {
        const last = heap.pop() as RunCursor;
        if (heap.length === 0) return;
        heap[0] = last;
      }
      siftDown(0);
    };
    while (heap.length > 0) {
      const key = (heap[0] as RunCursor).key;
      let exhausted = false;
      // A plain iterator with no return(): a reducer that breaks out early must not end the merge.
      const iter: Iterator<unknown> = {
        next: () => {
          const c = exhausted ? undefined : heap[0];
          if (!c || compareKeys(c.key, key) !== 0) {
            exhausted = true;
            return { done: true, value: undefined };
          }
          const value = c.value;
          advanceTop();
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
