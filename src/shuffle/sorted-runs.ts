import { closeSync, openSync } from 'node:fs';
import { compareKeys } from './key-order.js';
import { RecordReader, RecordWriter } from './record-codec.js';
import { BlockReader, writeBlock } from './run-blocks.js';

const BLOCK_BYTES = 1 << 20;

/** Writes a sorted run of (key, value) records to a local file (see run-blocks.ts); returns its bytes. */
export function writeSortedRun(path: string, entries: Iterable<[unknown, unknown[]]>): number {
  const fd = openSync(path, 'w');
  const w = new RecordWriter(BLOCK_BYTES + 4096);
  let bytes = 0;
  try {
    for (const [key, values] of entries) {
      for (const v of values) {
        w.write(key, v);
        if (w.length >= BLOCK_BYTES) bytes += writeBlock(fd, w);
      }
    }
    bytes += writeBlock(fd, w);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Reads a sorted run record by record, synchronously, so merged values can feed a sync iterable. */
class RunCursor {
  readonly #blocks: BlockReader;
  #reader: RecordReader | undefined;
  /** The run's place among those merged: equal keys merge in run order. */
  readonly run: number;
  key: unknown;
  value: unknown;
  done = false;

  constructor(path: string, run: number) {
    this.run = run;
    this.#blocks = new BlockReader(path);
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
      const block = this.#blocks.next();
      if (block === undefined) {
        this.done = true;
        return;
      }
      this.#reader = new RecordReader(block);
    }
  }

  close(): void {
    this.done = true;
    this.#blocks.close();
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
