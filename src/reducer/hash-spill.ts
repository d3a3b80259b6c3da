import { closeSync, openSync } from 'node:fs';
import { jsonText } from '../shuffle/json-text.js';
import { RecordWriter } from '../shuffle/record-codec.js';
import { writeBlock } from '../shuffle/run-blocks.js';

/** Where a holder writes its records when it spills (see ReduceHolder.spillTo). */
export interface RecordSink {
  write(key: unknown, value: unknown): void;
  /** A record whose key is the string whose UTF-8 is `src[start..end)`. */
  writeUtf8Key(src: Uint8Array, start: number, end: number, value: unknown): void;
}

/** One partition's file, and how many records were written to it (a key counted as often as it came). */
export interface SpillPartition {
  path: string;
  records: number;
}

/**
 * A reduce task's records spilled by the hash of their keys into `parts` local files (see
 * run-blocks.ts), so that every key's records are in one file and each file can be reduced on its
 * own, in memory: a grace hash aggregation. Unlike sorted runs it sorts nothing and merges nothing;
 * a stage that sorts its keys spills sorted runs instead.
 *
 * A key is placed by the hash of its UTF-8 bytes (a string) or of its JSON text (any other key), so a
 * key lands in the same file whether its holder kept it as bytes or decoded. `level` seeds the hash:
 * a file that is still too large is split again with a hash unrelated to the one that made it, and
 * to the shuffle's partitioner.
 */
export class HashSpill implements RecordSink {
  readonly #paths: string[];
  readonly #fds: (number | undefined)[];
  readonly #writers: RecordWriter[];
  readonly #records: Float64Array;
  readonly #seed: number;
  readonly #blockBytes: number;
  #scratch = Buffer.allocUnsafe(256);

  /**
   * `pathOf(i)` names partition i's file, made when its first block is written; each partition
   * buffers about `blockBytes` of records before writing them as a block.
   */
  constructor(pathOf: (part: number) => string, parts: number, level: number, blockBytes: number) {
    this.#blockBytes = blockBytes;
    this.#paths = Array.from({ length: parts }, (_, i) => pathOf(i));
    this.#fds = new Array(parts).fill(undefined);
    this.#writers = Array.from({ length: parts }, () => new RecordWriter(blockBytes + 4096));
    this.#records = new Float64Array(parts);
    this.#seed = Math.imul(level + 1, 0x9e3779b1) ^ 0x5bd1e995;
  }

  writeUtf8Key(src: Uint8Array, start: number, end: number, value: unknown): void {
    let h = this.#seed;
    for (let k = start; k < end; k++) h = Math.imul(h ^ (src[k] as number), 0x01000193);
    const part = this.#partOf(h);
    const w = this.#writers[part] as RecordWriter;
    w.writeUtf8Key(src, start, end, value);
    this.#written(part, w);
  }

  write(key: unknown, value: unknown): void {
    if (typeof key === 'string') {
      if (this.#scratch.length < key.length * 3) this.#scratch = Buffer.allocUnsafe(key.length * 3);
      const n = this.#scratch.write(key, 0, 'utf8');
      this.writeUtf8Key(this.#scratch, 0, n, value);
      return;
    }
    // Any other key by its JSON text, tagged apart from strings (whose bytes might spell the same).
    let h = Math.imul(this.#seed ^ 0xff, 0x01000193);
    const text = jsonText(key, 'key');
    for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
    const part = this.#partOf(h);
    const w = this.#writers[part] as RecordWriter;
    w.write(key, value);
    this.#written(part, w);
  }

  #partOf(h: number): number {
    // The multiply's high bits, mixed down: the low bits of FNV alone cluster.
    let x = h ^ (h >>> 16);
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    return (x >>> 0) % this.#paths.length;
  }

  #written(part: number, w: RecordWriter): void {
    this.#records[part] = (this.#records[part] as number) + 1;
    if (w.length >= this.#blockBytes) this.#flush(part);
  }

  #flush(part: number): void {
    const w = this.#writers[part] as RecordWriter;
    if (w.length === 0) return;
    let fd = this.#fds[part];
    if (fd === undefined) {
      fd = openSync(this.#paths[part] as string, 'w');
      this.#fds[part] = fd;
    }
    writeBlock(fd, w);
  }

  /** Writes what is buffered and closes the files; the partitions holding records, in order. */
  finish(): SpillPartition[] {
    const parts: SpillPartition[] = [];
    try {
      for (let i = 0; i < this.#paths.length; i++) {
        this.#flush(i);
        if ((this.#records[i] as number) > 0)
          parts.push({ path: this.#paths[i] as string, records: this.#records[i] as number });
      }
    } finally {
      this.close();
    }
    return parts;
  }

  /** Closes every file (a failed task's folder is removed with them). */
  close(): void {
    for (const [i, fd] of this.#fds.entries()) {
      if (fd !== undefined) closeSync(fd);
      this.#fds[i] = undefined;
    }
  }
}
