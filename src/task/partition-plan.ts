import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import type { Json } from '../job/types.js';
import type { MapTask } from '../protocol/task-types.js';
import { openTaskStore } from './task-store.js';

/** A stage's partition plan as the driver stores it, with what it learned sampling. */
export interface StoredPartitionPlan {
  stage: number;
  partitions: number;
  /** Records sampled, and the keys `map` emitted for them. */
  records: number;
  keys: number;
  plan: Json;
}

/** Encodes a partition plan for the store (JSON), with the CRC-32 its map tasks check it against. */
export function encodePartitionPlan(stored: StoredPartitionPlan): { bytes: Buffer; crc: number } {
  const bytes = Buffer.from(JSON.stringify(stored));
  return { bytes, crc: crc32(bytes) };
}

/** The plan last read in this thread: every map task of a stage reads the same one. */
let cached: { id: string; plan: Json } | undefined;

/**
 * A map task's partition plan, read from the store once per thread (worker or warm Lambda) and
 * checked against the CRC-32 its task carries. A mismatch is not retryable: only the driver writes
 * the plan, and a stored plan does not heal.
 */
export async function readPartitionPlan(pointer: NonNullable<MapTask['partitionPlan']>): Promise<Json> {
  const id = `${pointer.store}\n${pointer.key}\n${pointer.crc}`;
  if (cached?.id === id) return cached.plan;
  const bytes = await openTaskStore(pointer.store).get(pointer.key);
  if (crc32(bytes) !== pointer.crc) {
    throw new CorruptDataError(`checksum mismatch in partition plan ${pointer.key}`);
  }
  const stored = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredPartitionPlan;
  cached = { id, plan: stored.plan };
  return stored.plan;
}
