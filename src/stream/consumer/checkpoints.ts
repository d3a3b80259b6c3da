import { checkpointKey, checkpointsPrefix, type StreamScope } from '../../protocol/store-layout.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { StreamFaults } from './stream-faults.js';

/** One shard's checkpoint as stored. */
export interface Checkpoint {
  shardId: string;
  /** Every record at or before this one is done; undefined when nothing was done yet. */
  sequenceNumber?: string;
  /** The shard was read to SHARD_END and all of it is done: its children may start. */
  ended: boolean;
  /** Open tumbling window of the shard, saved with the records folded into it. */
  window?: { start: number; state: unknown };
  updatedAt: string;
}

/** Per-shard checkpoints of one job on one stream, in the store (see checkpointKey). */
export class CheckpointStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly scope: StreamScope,
    private readonly faults?: StreamFaults,
  ) {}

  #key(shardId: string): string {
    return checkpointKey(this.scope, shardId);
  }

  async read(shardId: string): Promise<Checkpoint | undefined> {
    if (!(await this.store.head(this.#key(shardId)))) return undefined;
    return JSON.parse(new TextDecoder().decode(await this.store.get(this.#key(shardId)))) as Checkpoint;
  }

  /** Every shard checkpointed as ended. */
  async ended(): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const o of this.store.list(checkpointsPrefix(this.scope))) {
      const c = JSON.parse(new TextDecoder().decode(await this.store.get(o.key))) as Checkpoint;
      if (c.ended) out.add(c.shardId);
    }
    return out;
  }

  async write(c: Omit<Checkpoint, 'updatedAt'>): Promise<void> {
    this.faults?.check('stream.checkpoint', c.shardId, `writing the checkpoint of ${c.shardId}`);
    await this.store.put(this.#key(c.shardId), JSON.stringify({ ...c, updatedAt: new Date().toISOString() }));
  }
}
