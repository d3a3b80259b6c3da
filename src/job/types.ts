/**
 * The job contract: everything a job file sees. Keep this file short enough to read in a minute.
 */

/** A JSON-serialisable value: what keys and values may be. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Emits one key/value pair from `map` or `reduce`. */
export type Emit<K = Json, V = Json> = (key: K, value: V) => void;

/** A logger whose every line carries the job id and task id. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What a running task knows about itself. */
export interface TaskContext {
  readonly jobId: string;
  /** Stable across attempts, e.g. `s0-m00012` or `s0-r00003`. */
  readonly taskId: string;
  /** 1-based attempt number. */
  readonly attempt: number;
  /** 0-based stage index. */
  readonly stage: number;
  readonly log: Logger;
}

/** What to do with a record that cannot be parsed: a line that is not JSON, a CSV quote left open. */
export type BadRecordPolicy =
  /** Fail the task at once, naming the file and line. The default. */
  | { onBadRecord?: 'fail' }
  /**
   * Leave it out of `map`, count it, and write it to `_bad_records/` beside the output; the job fails
   * once more than `maxBadRecords` (required: a non-negative integer) were left out.
   */
  | { onBadRecord: 'skip'; maxBadRecords: number };

/** Record formats the planner and mapper understand, with what to do about bad records. */
export type InputSpec = (
  | { format: 'text' }
  | { format: 'jsonl' }
  | {
      format: 'csv';
      delimiter?: string;
      header?: boolean;
      /**
       * The columns `map` reads, by 0-based position or (with `header`) by name: only these are
       * parsed, and a line is scanned no further than the last of them. A row without a header
       * keeps each column at its position (`columns: [0, 3]` gives `row[0]` and `row[3]`); with a
       * header it holds only the named keys. @default every column
       */
      columns?: readonly number[] | readonly string[];
    }
  | {
      format: 'parquet';
      /** The columns `map` reads, by name: only these are fetched and decoded. @default every column */
      columns?: readonly string[];
    }
) &
  BadRecordPolicy;

/** The record type `map` receives for an input spec. */
export type RecordOf<I> = I extends { format: 'jsonl' }
  ? Json
  : I extends { format: 'parquet' }
    ? Record<string, unknown>
    : I extends { format: 'csv'; header: true }
      ? Record<string, string>
      : I extends { format: 'csv' }
        ? string[]
        : string;

/** What a later stage's `map` receives: one output record of the stage before. */
export interface KeyValue<K = Json, V = Json> {
  key: K;
  value: V;
}

/**
 * One map/shuffle/reduce round. Methods (not function properties) so that a stage written with
 * annotated parameters fits the loosely typed stage list of a multi-stage job.
 */
export interface StageDefinition<R = unknown, K = Json, V = Json> {
  /** Called once per record; may be async and may throw (the attempt is then retried). */
  map(record: R, emit: Emit<K, V>, ctx: TaskContext): void | Promise<void>;
  /**
   * Folds values of one key into one; must be associative and commutative, since it may be called
   * with any grouping of the values (usually two at a time) and its results fed back in. It must not
   * keep the `values` array, which may be reused.
   */
  combine?(key: K, values: V[]): V;
  /** Called once per key with every value of that key, as an iterable to walk once. */
  reduce(key: K, values: Iterable<V>, emit: Emit<unknown, unknown>, ctx: TaskContext): void | Promise<void>;
  /** Number of reduce partitions. @default 8 */
  partitions?: number;
  /**
   * Chooses a partition in `[0, n)` for a key; `plan` is what `partitionPlan.make` returned for this
   * stage (undefined without one). @default a hash of the key
   */
  partitioner?(key: K, n: number, plan?: Json): number;
  /** Runs in the driver before the map phase; makes the `plan` every `partitioner` call gets. */
  partitionPlan?: PartitionPlan<K>;
  /**
   * Calls `reduce` key after key in ascending key order (null, booleans, numbers, strings by UTF-16
   * code units, then objects and arrays by JSON text), so each part file is sorted by key.
   * @default false: keys in no particular order
   */
  sortKeys?: boolean;
}

/**
 * A partitioner's plan made from a sample of the input (`rangePartitioner` is built on it): before
 * the map phase, the driver reads about `sample` records from across the stage's planned splits, runs
 * the stage's `map` over them, and hands the keys it emitted to `make`. Its result is stored with the
 * job and given to every `partitioner` call of the stage, in every map task.
 */
export interface PartitionPlan<K = Json> {
  /** Records to sample, 1..1,000,000. */
  sample: number;
  /** The plan for `n` partitions, from the keys `map` emitted for the sampled records (in no order). */
  make(keys: K[], n: number): Json;
}

/** A single-stage job as written in a job file. */
export interface SingleStageJob<R = unknown, K = Json, V = Json> extends StageDefinition<R, K, V> {
  name: string;
  input?: InputSpec;
}

/** A multi-stage job: each later stage maps over `{ key, value }` records of the previous one. */
export interface MultiStageJob {
  name: string;
  input?: InputSpec;
  stages: StageDefinition[];
}

export type JobDefinition = SingleStageJob | MultiStageJob;

/** A validated job: always a list of stages. Made by `defineJob`. */
export interface Job {
  readonly kind: 'fanout.job';
  readonly name: string;
  readonly input: InputSpec;
  readonly stages: readonly StageDefinition[];
}
