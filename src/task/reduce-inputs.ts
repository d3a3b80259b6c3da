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

/** Encodes reducer p's list of slices for the store (JSON), with its count and checksum. */
export function encodeInputList(list: readonly ReduceInput[]): StoredInputList {
  const bytes = Buffer.from(JSON.stringify(list));
  return { bytes, count: list.length, crc: crc32(bytes) };
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
    list = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    // Only a list written wrong matches its checksum and is not JSON: said below.
  }
  if (!Array.isArray(list) || list.length !== pointer.count) {
    const holds = Array.isArray(list) ? `${list.length} slices` : 'no JSON array';
    throw new CorruptDataError(`reduce input list ${pointer.key} holds ${holds}, expected ${pointer.count}`);
  }
  return list as ReduceInput[];
}
