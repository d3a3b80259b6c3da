import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import type { RecordWriter } from '../shuffle/record-codec.js';

/** Where one partition's records sit in a map task's spill file, and the CRC-32 of their bytes. */
export interface SpillPart {
  offset: number;
  length: number;
  records: number;
  crc: number;
}

/** One spill of a map task: a local file holding partition 0's records, then 1's, and so on. */
export interface Spill {
  path: string;
  parts: SpillPart[];
}

/** Writes one writer's records per partition to a new file at `path`, each partition checksummed. */
export function writeSpill(path: string, writers: readonly RecordWriter[]): Spill {
  const fd = openSync(path, 'w');
  const parts: SpillPart[] = [];
  let offset = 0;
  try {
    for (const w of writers) {
      const bytes = w.bytes();
      if (bytes.length > 0) writeSync(fd, bytes);
      parts.push({ offset, length: bytes.length, records: w.records, crc: crc32(bytes) });
      offset += bytes.length;
    }
  } finally {
    closeSync(fd);
  }
  return { path, parts };
}

/**
 * Reads one partition of a spill back and checks its CRC-32. The shuffle object's checksum is taken
 * over the bytes read here, so a byte changed on local disk would otherwise be sealed as valid and
 * reach the reducer as another key. Retryable: the next attempt spills afresh.
 */
export function readSpillPart(spill: Spill, partition: number): Buffer {
  const part = spill.parts[partition];
  if (!part) throw new Error(`spill ${spill.path} has no partition ${partition}`);
  const fd = openSync(spill.path, 'r');
  try {
    const buf = Buffer.allocUnsafe(part.length);
    let off = 0;
    while (off < part.length) {
      const n = readSync(fd, buf, off, part.length - off, part.offset + off);
      if (n === 0) {
        throw new CorruptDataError(`spill file ${spill.path} is shorter than expected`, { retryable: true });
      }
      off += n;
    }
    if (crc32(buf) !== part.crc) {
      throw new CorruptDataError(
        `checksum mismatch in spill file ${spill.path}, partition ${partition} at [${part.offset}, ${part.offset + part.length})`,
        { retryable: true },
      );
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}
