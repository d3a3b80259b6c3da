/**
 * The job contract: everything a job file sees. Keep this file short enough to read in a minute.
 */

import type { OutputSpec } from '../output/output-spec.js';

export type { ColumnType, OutputFormat, OutputSpec } from '../output/output-spec.js';

/** A JSON-serialisable value: what keys and values may be. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Emits one key/value pair from `map` or `reduce`. Annotate the `emit` of a `map` once
 * (`map(line, emit: Emit<string, number>)`) and the types flow on: `combine` and `reduce` get keys
 * of K and values of V without annotations of their own.
 */
export type Emit<K = Json, V = Json> = (key: K, value: V) => void;

/** Emits one output record from the `map` of a map-only stage (one without `reduce`). */
export type EmitRecord<O = Json> = (record: O) => void;

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

/** The object a map task is reading, and the byte range of it the task owns (`ctx.input`). */
export interface InputFile {
  /** The object's URL: `s3://bucket/in/orders/2024-01.csv`, `file:///data/in/orders/2024-01.csv`. */
  readonly url: string;
  /** Its key below the input's root, as listed: `orders/2024-01.csv`. */
  readonly key: string;
  /** The range `[start, end)` of its bytes this task maps: the records that start inside it. */
  readonly start: number;
  readonly end: number;
  /** Size of the whole object in bytes. */
  readonly size: number;
}

/** What a map task knows: the task, and the input being mapped. */
export interface MapContext extends TaskContext {
  readonly input: InputFile;
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

declare const recordType: unique symbol;

/** An input spec that names the type of its records (see `jsonl`): a type only, no field at run time. */
export interface TypedInput<T> {
  readonly [recordType]?: T;
}

/** A Parquet row of the named `columns` (all of them without), of JSON values. */
type ParquetColumns<I> = I extends { columns: readonly (infer C extends string)[] }
  ? Record<C, Json>
  : Record<string, Json>;

/** A Parquet row: the type named with `parquet<T>()`, else ParquetColumns. */
type ParquetRecord<I> = Named<I, ParquetColumns<I>>;

/** The record type an input spec names, or `Otherwise` when it names none. */
type Named<I, Otherwise> = I extends TypedInput<infer T> ? (unknown extends T ? Otherwise : T) : Otherwise;

/**
 * The record type `map` receives for an input spec: a line of text; for JSONL the type named with
 * `jsonl<T>()`, else any JSON value; for Parquet the type named with `parquet<T>()` or an object of
 * the named `columns`; for CSV with a header an object of the named `columns` (or of
 * every header field), else an array of fields.
 */
export type RecordOf<I> = I extends { format: 'jsonl' }
  ? Named<I, Json>
  : I extends { format: 'parquet' }
    ? ParquetRecord<I>
    : I extends { format: 'csv'; header: true; columns: readonly (infer C extends string)[] }
      ? Record<C, string>
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
 * A map, shuffle and reduce round over records of type R: `map` emits keys of K with values of V,
 * `reduce` emits the stage's output, `{ key, value }` records of KO and VO. Methods (not function
 * properties) so that a stage written with annotated parameters fits the loosely typed stage list.
 */
export interface ReduceStage<R = unknown, K = unknown, V = unknown, KO = unknown, VO = unknown> {
  /** Called once per record; may be async and may throw (the attempt is then retried). */
  map(record: R, emit: Emit<K, V>, ctx: MapContext): void | Promise<void>;
  /**
   * Folds values of one key into one; must be associative and commutative, since it may be called
   * with any grouping of the values (usually two at a time) and its results fed back in. It must not
   * keep the `values` array, which may be reused.
   */
  combine?(key: K, values: V[]): V;
  /** Called once per key with every value of that key, as an iterable to walk once. */
  reduce(key: K, values: Iterable<V>, emit: Emit<KO, VO>, ctx: TaskContext): void | Promise<void>;
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
 * A map-only stage: no shuffle and no reduce. Each map task writes the records its `map` emits,
 * one per `emit(record)`, to one part file (`part-m-00000.jsonl`, ...).
 */
export interface MapOnlyStage<R = unknown, O = unknown> {
  map(record: R, emit: EmitRecord<O>, ctx: MapContext): void | Promise<void>;
  reduce?: undefined;
}

/**
 * Either kind of stage, loosely typed: what a `stages` list holds and the engine runs. Any typed
 * stage fits it; a stage written inside a `stages` list gets no types from it (`.stage()` gives them).
 */
export interface StageDefinition {
  // biome-ignore lint/suspicious/noExplicitAny: a stage of any record, key and value types fits
  map(record: any, emit: any, ctx: MapContext): void | Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: as for map
  combine?(key: any, values: any[]): any;
  // biome-ignore lint/suspicious/noExplicitAny: as for map
  reduce?(key: any, values: Iterable<any>, emit: Emit<any, any>, ctx: TaskContext): void | Promise<void>;
  partitions?: number;
  // biome-ignore lint/suspicious/noExplicitAny: as for map
  partitioner?(key: any, n: number, plan?: Json): number;
  // biome-ignore lint/suspicious/noExplicitAny: as for map
  partitionPlan?: PartitionPlan<any>;
  sortKeys?: boolean;
}

/** The records a stage writes: a reduce's `{ key, value }`s, or what a map-only stage's map emits. */
export type OutputOf<S> =
  S extends ReduceStage<never, never, never, infer KO, infer VO>
    ? KeyValue<KO, VO>
    : S extends MapOnlyStage<never, infer O>
      ? O
      : unknown;

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

/**
 * What every job file names: the job, what its first stage reads, and how its last stage writes
 * (`output`; run options and `--output-format` may override the format and compression).
 */
export interface JobOptions<I extends InputSpec = InputSpec> {
  name: string;
  input?: I;
  output?: OutputSpec;
}

/** A multi-stage job given as a list: each later stage maps over the records of the one before. */
export interface MultiStageJob extends JobOptions {
  stages: StageDefinition[];
}

/**
 * A validated job: always a list of stages. Made by `defineJob`; `.stage(next)` gives a job with one
 * more stage, whose `map` receives this job's output records, typed (`Out`).
 */
export interface Job<Out = unknown> {
  readonly kind: 'fanout.job';
  readonly name: string;
  readonly input: InputSpec;
  /** How the last stage's part files are written: JSONL when absent. */
  readonly output?: OutputSpec;
  readonly stages: readonly StageDefinition[];
  /** The job with a stage after its last: a reduce stage, whose output is `{ key, value }` records. */
  stage<K = unknown, V = unknown, KO = unknown, VO = unknown>(
    next: ReduceStage<Out, K, V, KO, VO>,
  ): Job<KeyValue<KO, VO>>;
  /** The job with a map-only stage after its last. */
  stage<O = unknown>(next: MapOnlyStage<Out, O>): Job<O>;
}
