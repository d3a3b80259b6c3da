import type { Json } from '../job/types.js';
import type { SerializedRecord } from '../protocol/task-types.js';
import type { StreamRecord } from '../stream/types.js';

const decoder = new TextDecoder();

/** A record read from a shard; its helpers live on the prototype, so a read of 10,000 makes no closures. */
class ShardRecord implements StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly arrivedAt: Date;

  constructor(f: Omit<StreamRecord, 'text' | 'json'>) {
    this.shardId = f.shardId;
    this.sequenceNumber = f.sequenceNumber;
    this.partitionKey = f.partitionKey;
    this.data = f.data;
    this.arrivedAt = f.arrivedAt;
  }

  text(): string {
    return decoder.decode(this.data);
  }

  json<T = Json>(): T {
    return JSON.parse(decoder.decode(this.data)) as T;
  }
}

/** Builds a record with its `text()` and `json()` helpers. */
export function makeRecord(fields: Omit<StreamRecord, 'text' | 'json'>): StreamRecord {
  return new ShardRecord(fields);
}

/** Plain-data form of a record. */
export function serializeRecord(r: StreamRecord): SerializedRecord {
  return {
    shardId: r.shardId,
    sequenceNumber: r.sequenceNumber,
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data).toString('base64'),
    arrivedAt: r.arrivedAt.getTime(),
  };
}

/** Rebuilds a record from its plain-data form. */
export function deserializeRecord(s: SerializedRecord): StreamRecord {
  return makeRecord({
    shardId: s.shardId,
    sequenceNumber: s.sequenceNumber,
    partitionKey: s.partitionKey,
    data: new Uint8Array(Buffer.from(s.data, 'base64')),
    arrivedAt: new Date(s.arrivedAt),
  });
}

/** Compares Kinesis sequence numbers, which are decimal strings too long for a double. */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
