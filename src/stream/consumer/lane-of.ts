import { createHash } from 'node:crypto';

/**
 * The lane of a partition key: a stable hash, so all records of one key go to one lane and keep
 * their order, as Lambda's parallelization factor does.
 */
export function laneOf(partitionKey: string, lanes: number): number {
  if (lanes <= 1) return 0;
  return createHash('md5').update(partitionKey).digest().readUInt32BE(0) % lanes;
}
