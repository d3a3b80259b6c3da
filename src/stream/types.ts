/**
 * The stream contract: everything a stream job file sees. Keep this file short enough to read in a minute.
 */

import type { Json, Logger } from '../job/types.js';
import type { ObjectStore } from '../store/object-store.js';

/** One Kinesis record as `process` receives it. */
export interface StreamRecord {
  readonly shardId: string;
  /** Kinesis sequence number: a decimal string, increasing within a shard. */
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** When Kinesis accepted the record (ApproximateArrivalTimestamp). */
  readonly arrivedAt: Date;
  /** The data decoded as UTF-8. */
  text(): string;
  /** The data parsed as JSON. @throws {SyntaxError} when it is not JSON */
  json<T = Json>(): T;
}

/** Where a shard with no checkpoint starts reading. */
export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | { timestamp: Date };

/** What a processing call knows about itself. */
export interface StreamContext {
  readonly streamName: string;
  readonly shardId: string;
  /** 1-based attempt number of this batch's first record. */
  readonly attempt: number;
  /** Lines start with `[stream-<job> <shardId>-<first sequence number>]`; stderr wherever the batch runs. */
  readonly log: Logger;
  /** The consumer's store (where its checkpoints live), for jobs that write their results. */
  readonly store: ObjectStore;
}

/** What `emit` knows besides the window: where to write and how to log. */
export interface EmitContext {
  readonly streamName: string;
  readonly store: ObjectStore;
  readonly log: Logger;
}

/** A record `process` reports as failed, and why: the reason goes into its dead letter. */
export interface FailedRecord {
  sequenceNumber: string;
  error?: string;
}

/**
 * A partial failure (Lambda's ReportBatchItemFailures): records before the lowest one listed are
 * done, it and every later one are retried. A sequence number not in the batch fails all of it.
 */
export interface BatchResult {
  failed?: readonly (string | FailedRecord)[];
}

/**
 * A stream job's `process`: handles one batch of a shard, in sequence order. It may throw (the whole
 * batch failed) or return the records that failed; returning nothing means every record is done.
 */
export type ProcessRecords = (
  records: StreamRecord[],
  ctx: StreamContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: `async process() {}` returns Promise<void>
) => void | BatchResult | Promise<void | BatchResult>;

/** Bounds of one tumbling window, handed to `emit`. */
export interface WindowInfo {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  shardId: string;
  /** True on the one call that closes the window. */
  final: boolean;
}

/** A tumbling window over record arrival times; state is carried between batches per shard. */
export interface WindowDefinition<S = Json> {
  /** Window length in ms, 1..900,000 (Lambda's 900 s). */
  ms: number;
  /** Folds a batch of records of one window into its state (undefined at the window's start). */
  reduce(state: S | undefined, records: StreamRecord[]): S | Promise<S>;
  /** Called once per window when it closes. */
  emit(state: S, window: WindowInfo, ctx: EmitContext): void | Promise<void>;
}

/** A stream job as written in a job file. */
export interface StreamDefinition<S = Json> {
  name: string;
  /** Stream name or ARN; `--stream` overrides it. */
  stream: string;
  /** @default 'TRIM_HORIZON' */
  startingPosition?: StartingPosition;
  /** Most records per `process` call, 1..10,000. @default 100 */
  batchSize?: number;
  /** How long to wait to fill a batch, 0..300,000 ms. @default 0 */
  batchWindowMs?: number;
  /** Concurrent batches per shard, 1..10; order is kept per partition key. @default 1 */
  parallelization?: number;
  /** Retries of a failing record before it is dead-lettered; -1 = until it expires. @default 3 */
  maxRetries?: number;
  /** Records older than this are dead-lettered instead of retried; -1 = never. @default -1 */
  maxRecordAgeMs?: number;
  /** Halve a failing batch until the failing record is alone. @default true */
  bisectOnError?: boolean;
  /** SQS queue name or URL for records that exhaust their retries; default: the store. */
  dlq?: string;
  /** Handles a batch; may throw, or return the records that failed (`{ failed: [sequenceNumber, ...] }`). */
  process?: ProcessRecords;
  window?: WindowDefinition<S>;
}

/** A validated stream job, defaults filled in. Made by `defineStream`. */
export interface Stream {
  readonly kind: 'fanout.stream';
  readonly name: string;
  readonly stream: string;
  readonly startingPosition: StartingPosition;
  readonly batchSize: number;
  readonly batchWindowMs: number;
  readonly parallelization: number;
  readonly maxRetries: number;
  readonly maxRecordAgeMs: number;
  readonly bisectOnError: boolean;
  readonly dlq: string | undefined;
  process(records: StreamRecord[], ctx: StreamContext): Promise<BatchResult | undefined>;
  readonly window: WindowDefinition<unknown> | undefined;
}
