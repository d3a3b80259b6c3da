import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import type { ReduceInput, ReduceTask } from '../protocol/task-types.js';
import { openTaskStore } from './task-store.js';

/** A reducer's input list as the driver stores it, with what its task is told to expect of it. */
export interface StoredInputList {
  bytes: Buffer;
  /** Slices in the list. */
  count: number;
  /** CRC-32 of `bytes`. */
  crc: number;
}

/** Entries stringified together before their text joins the list's: bounds the pieces held. */
const ENTRIES_PER_CHUNK = 4096;

/**
 * Encodes reducer p's list of slices for the store (a JSON array), with its count and checksum.
 * The entries are read once, in order, one at a time: the driver hands them over without building
 * one array of them per partition (100,000 objects in a plan of 100,000 map tasks).
 */
export function encodeInputList(list: Iterable<ReduceInput>): StoredInputList {
  const chunks: string[] = [];
  let chunk: string[] = [];
  let count = 0;
  for (const entry of list) {
    chunk.push(JSON.stringify(entry));
    count++;
    if (chunk.length === ENTRIES_PER_CHUNK) {
      chunks.push(chunk.join(','));
      chunk = [];
    }
  }
  if (chunk.length > 0) chunks.push(chunk.join(','));
  // The same bytes as JSON.stringify of the whole array.
  const bytes = Buffer.from(`[${chunks.join(',')}]`);
  return { bytes, count, crc: crc32(bytes) };
}

/**
 * Reads a reduce task's input list and checks it against the count and CRC-32 its task was given:
 * a list that lost an entry would drop that map output's records from the answer without a word.
 * A mismatch is not retryable: the stored list does not heal, and only the driver writes it.
 */
export async function readInputList(pointer: ReduceTask['inputs']): Promise<ReduceInput[]> {
  const bytes = await openTaskStore(pointer.store).get(pointer.key);
  if (crc32(bytes) !== pointer.crc) {
    throw new CorruptDataError(`checksum mismatch in reduce input list ${pointer.key}`);
  }
  let list: unknown;
  try {
    // A view of the bytes read, not a copy: a list of 100,000 slices is about 20 MB.
    list = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    // Only a list written wrong matches its checksum and is not JSON: said below.
  }
  if (!Array.isArray(list) || list.length !== pointer.count) {
    const holds = Array.isArray(list) ? `${list.length} slices` : 'no JSON array';
    throw new CorruptDataError(`reduce input list ${pointer.key} holds ${holds}, expected ${pointer.count}`);
  }
  return list as ReduceInput[];
}
