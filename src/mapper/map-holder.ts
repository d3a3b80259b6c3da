import type { PartSink } from '../output/part-sink.js';
import type { MapTask, Split } from '../protocol/task-types.js';
import type { RecordWriter } from '../shuffle/record-codec.js';
import type { ObjectStore } from '../store/object-store.js';
import type { BadRecordLog } from './bad-record-log.js';

/**
 * What a map task fills from its splits and empties into the shuffle: the seam between the generic
 * task (splits, spills, the shuffle object) and how records become keys. Chosen once per task (see
 * mapHolderFor): the user's map over parsed records, or a built-in that runs over bytes.
 */
export interface MapHolder {
  /** Estimated bytes held, against the memory budget. */
  readonly bytes: number;
  /** Distinct keys held. */
  readonly size: number;
  /** Records read so far (lines for text). */
  readonly inputRecords: number;
  /** Records emitted so far (before combining). */
  readonly outputRecords: number;
  /**
   * Reads one split's records into the holder, calling `between` after each batch of them (and
   * waiting for it, when it returns a promise).
   */
  readSplit(store: ObjectStore, split: Split, between: () => void | Promise<void>): Promise<void>;
  /** Writes everything held as records, one writer per partition, and empties the holder. */
  drainInto(writers: readonly RecordWriter[]): void;
}

/** What every holder is made with. */
export interface HolderContext {
  task: MapTask;
  /** The stage's partitioner, checked, or the default hash. */
  partitionOf: (key: unknown) => number;
  /** Distinct keys to presize tables for. */
  expectedKeys: number;
  /** With `input.onBadRecord: 'skip'`: where records that cannot be parsed go instead of failing. */
  badRecords?: BadRecordLog;
  /** For a map-only stage: the part file each emitted record is written to, as it is emitted. */
  sink?: PartSink;
}

/** Writes `entries` to the writer of each key's partition: how a holder without a faster way drains. */
export function writeEntries(
  entries: Iterable<[unknown, unknown[]]>,
  writers: readonly RecordWriter[],
  partitionOf: (key: unknown) => number,
): void {
  for (const [key, values] of entries) {
    const w = writers[partitionOf(key)] as RecordWriter;
    for (const v of values) w.write(key, v);
  }
}
