import type { Compression } from '../job/input-compression.js';
import type { InputSpec } from '../job/types.js';
import type { OutputSpec } from '../output/output-spec.js';
import type { FailedRecord } from '../stream/types.js';

/**
 * The wire types: what crosses a thread or an invocation between the driver, the consumer and the
 * task code. Plain data only; this module imports nothing but the job contract.
 */

/** A byte range of one object. It owns the records that start inside `[start, end)`. */
export interface Split {
  store: string;
  key: string;
  start: number;
  end: number;
  /** Size of the whole object, so a reader knows how far it may read past `end`. */
  size: number;
  /**
   * How the object is compressed, where planning knew: by its name, or by its first bytes for an
   * object larger than a split. A compressed object is one split, as its stream cannot be entered
   * mid-way. The reader looks at the first bytes of every object it opens at byte 0 as well (see
   * lineRuns), so small objects planning did not look into are decompressed or refused too.
   */
  compression?: Compression;
  /** The object's etag when planned: a reader fails rather than read another version. */
  etag?: string;
}

/** Where one partition's records sit inside a map task's shuffle object. */
export interface PartitionSlice {
  offset: number;
  length: number;
  records: number;
  /** CRC-32 of the slice's bytes, checked by every reader. */
  crc: number;
}

/** A record's fields as plain data: what crosses a thread or Lambda boundary (data in base64). */
export interface SerializedRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: string;
  arrivedAt: number;
}

/** Fields every task invocation carries: small, plain data, the same on every backend. */
interface TaskBase {
  jobId: string;
  stage: number;
  taskId: string;
  attempt: number;
  /**
   * How many invocations of this attempt were throttled before this one (Lambda 429, S3 SlowDown):
   * a throttled attempt goes again under the same number. Absent on its first invocation.
   */
  throttled?: number;
  /** Bytes of records a task may hold in memory before spilling to local disk. */
  memoryBudget: number;
  /** Where the job's cancel marker would appear: the task stops at its next batch once it does. */
  cancel?: { store: string; key: string };
  /** Where the attempt stores what job code logged (`ctx.log`), for `mr logs`, when it logged any. */
  log?: { store: string; key: string };
}

/** Read splits, map, combine, partition, and write one shuffle object. */
export interface MapTask extends TaskBase {
  kind: 'map';
  input: InputSpec;
  splits: Split[];
  partitions: number;
  /** Store URL and attempt-scoped key of the shuffle object to write. */
  shuffleStore: string;
  shuffleKey: string;
  /**
   * With `input.onBadRecord: 'skip'`: where this attempt writes the records it skips (the output
   * store, under `_temporary/`), if it skips any. The driver moves the committed attempt's file into
   * `_bad_records/`.
   */
  badRecords?: { store: string; key: string };
  /**
   * For a stage with a `partitionPlan`: where the driver stored the plan its partitioner gets (in the
   * job's state), with the CRC-32 of the stored bytes. A pointer, not the plan: a plan of thousands of
   * split points would outgrow an invocation payload.
   */
  partitionPlan?: { store: string; key: string; crc: number };
  /**
   * For a map-only stage (no `reduce`): the attempt-scoped part file the task writes what `map`
   * emits to, instead of a shuffle object. The driver moves the committed attempt's into place.
   */
  output?: { store: string; key: string; format?: OutputSpec };
}

/** One partition's slice of one committed map output. */
export interface ReduceInput {
  store: string;
  key: string;
  slice: PartitionSlice;
}

/** Read one partition from every committed map output, group, reduce, write one part file. */
export interface ReduceTask extends TaskBase {
  kind: 'reduce';
  partition: number;
  /**
   * Where the list of this partition's slices (ReduceInput[] as JSON) is stored. A pointer, not the
   * list: with thousands of map tasks the list would outgrow an invocation payload. `count` and `crc`
   * (CRC-32 of the stored bytes) let the reducer check the list it reads (see readInputList).
   */
  inputs: { store: string; key: string; count: number; crc: number };
  /** Store URL and attempt-scoped key of the part file to write. */
  outputStore: string;
  outputKey: string;
  /** The part file's format, for the job's last stage; JSONL when absent. */
  outputFormat?: OutputSpec;
}

/**
 * Merge the shuffle objects of a group of map tasks into one (the combining tier, see mergeFanIn):
 * read each whole, once, and write one shuffle object whose partition p holds every input's
 * partition p, so a reducer reads one slice per group instead of one per map task.
 */
export interface MergeTask extends TaskBase {
  kind: 'merge';
  partitions: number;
  /**
   * Where the list of the group's slices is stored (ReduceInput[], as a reduce task's list): every
   * partition's slice of the first map output, then of the second, and so on, empty ones included,
   * so entry i is partition i % partitions. With the list's count and CRC-32, as for a reduce task.
   */
  inputs: { store: string; key: string; count: number; crc: number };
  /** Store URL and attempt-scoped key of the shuffle object to write. */
  shuffleStore: string;
  shuffleKey: string;
}

/** Process one batch of a stream job's records (data in base64) with its `process`. */
export interface StreamBatchTask extends TaskBase {
  kind: 'stream-batch';
  streamName: string;
  shardId: string;
  /** Store URL handed to `process` as `ctx.store`. */
  store: string;
  records: SerializedRecord[];
}

export type Task = MapTask | MergeTask | ReduceTask | StreamBatchTask;

/** What a task did, for the job's summary. */
export interface TaskMetrics {
  inputBytes: number;
  inputRecords: number;
  outputRecords: number;
  outputBytes: number;
  spills: number;
  ms: number;
  /** Faults injected on purpose in this attempt (FANOUT_FAULTS), by `site:kind`; absent when none. */
  faults?: Record<string, number>;
}

export interface MapResult {
  kind: 'map';
  /** The shuffle object written; empty for a map-only stage's task, which wrote `outputKey`. */
  shuffleKey: string;
  slices: PartitionSlice[];
  /** A map-only stage's part file, as the attempt wrote it (see MapTask.output). */
  outputKey?: string;
  /** As ReduceResult's: no part file was written. */
  empty?: true;
  /** As ReduceResult's: the part's columns. */
  columns?: string;
  metrics: TaskMetrics;
  /** Records the attempt skipped as bad, when it skipped any. */
  badRecords?: SkippedRecords;
}

/** What a map attempt skipped under `onBadRecord: 'skip'`. */
export interface SkippedRecords {
  count: number;
  /** The first: its file, line and reason, as messages show it. */
  first: string;
  /** Where the attempt wrote them, one JSON object per line (MapTask.badRecords). */
  key: string;
}

/** A merged shuffle object: read by reducers as a map task's is. */
export interface MergeResult {
  kind: 'merge';
  shuffleKey: string;
  slices: PartitionSlice[];
  metrics: TaskMetrics;
}

/** What a reducer reads from: a map task's shuffle object, or a merge of several. */
export type ShuffleOutput = Pick<MapResult | MergeResult, 'shuffleKey' | 'slices'>;

export interface ReduceResult {
  kind: 'reduce';
  outputKey: string;
  /** Set when no part file was written (see PartSink.close): there is nothing to move into place. */
  empty?: true;
  /** The part's columns (columnsSignature), for the formats that have them: parts must agree. */
  columns?: string;
  metrics: TaskMetrics;
}

/** What `process` came to: the records that failed and why (see batchFailure), if any. */
export interface StreamBatchResult {
  kind: 'stream-batch';
  failed?: Required<FailedRecord>[];
  metrics: TaskMetrics;
}

export type TaskResult = MapResult | MergeResult | ReduceResult | StreamBatchResult;
