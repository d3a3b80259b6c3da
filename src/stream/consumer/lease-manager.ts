import type { Renewal } from './shard-leases.js';

/**
 * Decides which shards this consumer reads. A store-backed implementation with compare-and-swap
 * leases plugs in here so several consumers can share a stream.
 */
export interface LeaseManager {
  /** Tries to own the given shards; returns those this consumer now owns. */
  acquire(shardIds: string[]): Promise<string[]>;
  /** Extends every lease this consumer holds; called on a heartbeat. Says which shards to stop. */
  renew(): Promise<Renewal>;
  /** Gives one shard up (it ended, or the consumer stops). */
  release(shardId: string): Promise<void>;
}

/** The single-consumer case: this process owns every shard it is offered. */
export class SoleOwner implements LeaseManager {
  async acquire(shardIds: string[]): Promise<string[]> {
    return shardIds;
  }
  async renew(): Promise<Renewal> {
    return { stop: [] };
  }
  async release(_shardId: string): Promise<void> {}
}
