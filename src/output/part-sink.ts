/**
 * A part file being written, in the job's output format: the seam between the tasks that write
 * records (a reducer, a map-only stage's map task) and how records become bytes.
 */
import type { ObjectWriter } from '../store/object-store.js';
import { type Column, columnsSignature } from './columns.js';
import { gzipWriter } from './gzip-writer.js';
import { JsonlSink } from './jsonl-sink.js';
import type { OutputSpec } from './output-spec.js';
import { RowSink } from './row-sink.js';

export interface PartSink {
  /** Writes one `{ key, value }` record of a reduce. Bound: reduce is handed it as `emit`. */
  readonly emit: (key: unknown, value: unknown) => void;
  /** Writes one record of a map-only stage. Bound, as `emit`. */
  readonly write: (record: unknown) => void;
  /**
   * Writes whole JSONL lines already encoded, each ending in a newline: only a JSONL part has it,
   * for the built-in reducers' fast paths (see ReduceHolder.writeDirect).
   */
  writeLines?(chunk: Uint8Array, records: number): Promise<void>;
  /** Whether a chunk is ready: call flush() before more records. */
  readonly full: boolean;
  flush(): Promise<void>;
  /**
   * Publishes the part file. False when there was nothing to publish: a CSV, Arrow or Parquet part
   * with no records and no declared columns has no columns to write (and a Parquet file without
   * columns is one readers refuse).
   */
  close(): Promise<boolean>;
  abort(): Promise<void>;
  readonly records: number;
  /** Bytes of the part as encoded (before gzip). */
  readonly bytes: number;
  /** The columns written, for the formats that have them. */
  readonly columns: readonly Column[] | undefined;
}

/** A part file of `spec`'s format (JSONL when none is given) written to `out`. */
export function openPartSink(out: ObjectWriter, spec: OutputSpec | undefined): PartSink {
  const to = spec?.compression === 'gzip' ? gzipWriter(out) : out;
  const format = spec?.format ?? 'jsonl';
  return format === 'jsonl' ? new JsonlSink(to) : new RowSink(to, format, spec?.columns);
}

/**
 * What a task's result says of the part it closed (`written`: what close() returned): `empty` when
 * no file was written, and the columns written, for the driver to check that parts agree.
 */
export function closedPart(sink: PartSink, written: boolean): { empty?: true; columns?: string } {
  return {
    ...(!written && { empty: true as const }),
    ...(sink.columns && { columns: columnsSignature(sink.columns) }),
  };
}
