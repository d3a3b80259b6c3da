import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import type { RecordWriter } from './record-codec.js';

/**
 * The local spill file format, of sorted runs and hash partitions alike: records (see RecordWriter)
 * in length-prefixed blocks, so a reader walks a file with bounded memory and never meets a record
 * cut in two. Each block carries a CRC-32: a changed byte in a key would otherwise reduce as another
 * key, and the answer would be wrong.
 */

/** A block's head: its length and the CRC-32 of its bytes, each a u32 LE. */
const HEAD_BYTES = 8;

/** Appends `w`'s records to the file open at `fd` as one block and empties `w`; returns bytes written. */
export function writeBlock(fd: number, w: RecordWriter): number {
  if (w.length === 0) return 0;
  const block = w.bytes();
  const head = Buffer.alloc(HEAD_BYTES);
  head.writeUInt32LE(block.length, 0);
  head.writeUInt32LE(crc32(block), 4);
  writeSync(fd, head);
  writeSync(fd, block);
  w.reset();
  return HEAD_BYTES + block.length;
}

/** Reads a spill file's blocks in order, synchronously, checking each one's length and CRC. */
export class BlockReader {
  readonly #path: string;
  readonly #fd: number;
  #pos = 0;
  #open = true;

  constructor(path: string) {
    this.#path = path;
    this.#fd = openSync(path, 'r');
  }

  /** The next block's bytes; undefined (and the file closed) at the end. */
  next(): Buffer | undefined {
    if (!this.#open) return undefined;
    const head = Buffer.alloc(HEAD_BYTES);
    const got = readSync(this.#fd, head, 0, HEAD_BYTES, this.#pos);
    if (got === 0) {
      this.close();
      return undefined;
    }
    // The retry writes its spill files afresh, so a bad one is worth another attempt.
    if (got < HEAD_BYTES) throw this.#corrupt('truncated');
    const len = head.readUInt32LE(0);
    const block = Buffer.allocUnsafe(len);
    if (readSync(this.#fd, block, 0, len, this.#pos + HEAD_BYTES) !== len) throw this.#corrupt('truncated');
    if (crc32(block) !== head.readUInt32LE(4)) throw this.#corrupt('checksum mismatch in');
    this.#pos += HEAD_BYTES + len;
    return block;
  }

  #corrupt(what: string): CorruptDataError {
    return new CorruptDataError(`${what} spill file ${this.#path} at byte ${this.#pos}`, { retryable: true });
  }

  close(): void {
    if (this.#open) {
      this.#open = false;
      closeSync(this.#fd);
    }
  }
}
