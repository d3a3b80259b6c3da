import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { streamRef } from '../../backends/stream-clients.js';

/** What the consumer needs of a shard. */
export interface ShardInfo {
  shardId: string;
  parents: string[];
  /** True when the shard was split or merged: it has an end and will reach SHARD_END. */
  closed: boolean;
}

/** Every shard of a stream, following ListShards' pagination. */
export async function listShards(client: KinesisClient, stream: string): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  let token: string | undefined;
  do {
    // ListShards takes either a stream or a NextToken, never both.
    const page = await client.send(
      new ListShardsCommand(token ? { NextToken: token } : { ...streamRef(stream), MaxResults: 1000 }),
    );
    for (const s of page.Shards ?? []) shards.push(toInfo(s));
    token = page.NextToken;
  } while (token);
  return shards;
}

function toInfo(s: Shard): ShardInfo {
  const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => Boolean(p));
  return { shardId: s.ShardId ?? '', parents, closed: Boolean(s.SequenceNumberRange?.EndingSequenceNumber) };
}

/**
 * Shards that may be read now: not ended, and every parent still listed has been read to its end
 * and checkpointed as ended (KCL's rule, so a key's records are seen in order across a reshard).
 * A parent no longer listed has expired out of the retention period, so it cannot hold unread records.
 */
export function readyShards(shards: ShardInfo[], ended: ReadonlySet<string>): ShardInfo[] {
  const listed = new Set(shards.map((s) => s.shardId));
  return shards.filter(
    (s) => !ended.has(s.shardId) && s.parents.every((p) => !listed.has(p) || ended.has(p)),
  );
}
