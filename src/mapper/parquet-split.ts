import { type DecodedArray, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { BadRecordError, FanoutError, UserCodeError } from '../errors.js';
import type { Split } from '../protocol/task-types.js';
import { objectName } from '../store/object-name.js';
import type { ObjectStore } from '../store/object-store.js';
import { openParquetFile, type ParquetFile, rowGroupStart } from './parquet-file.js';
import { converterOf, PARQUET_PARSERS } from './parquet-values.js';

/** Records of one row group, with where they are in their file. */
export interface ParquetBatch {
  /** 0-based index of the row group in its file. */
  rowGroup: number;
  /** 0-based index in the file of the batch's first row. */
  firstRow: number;
  records: Record<string, unknown>[];
}

/**
 * Records made at a time from a decoded row group. The column values live as long as their row
 * group; the records built from them only until `map` has seen them, so they are made a few
 * thousand at a time and die young: made 122,880 (a DuckDB row group) at a time, they outlived the
 * young generation, and garbage collection took 46% of a map task over two columns.
 */
const BATCH_ROWS = 4096;

/**
 * The records of the row groups a split owns, in batches of up to BATCH_ROWS rows of one row group,
 * each record an object of the named `columns` (every column without them) holding JSON values (see
 * parquet-values.ts).
 *
 * A split owns the row groups whose data starts inside its byte range `[start, end)` (see
 * rowGroupStart), so the splits of a file, cut wherever planning cuts them, read each row group
 * exactly once; a split that owns none reads only the footer. The footer is read once per split with
 * ranged reads from the object's end, and each row group's chunks of the named columns with ranged
 * reads of their own: the next row group is fetched while the current one is mapped.
 * @throws {BadRecordError} when the object is not Parquet or a row group cannot be decoded.
 */
export async function* readParquetSplit(
  store: ObjectStore,
  split: Split,
  columns: readonly string[] | undefined,
): AsyncGenerator<ParquetBatch> {
  const file = await openParquetFile(store, split, columns);
  const owned = ownedRowGroups(file, split);
  const read = (i: number): Promise<DecodedRowGroup> | undefined => {
    const o = owned[i];
    if (o === undefined) return undefined;
    const p = decodeRowGroup(file, o.rowGroup, o.firstRow, columns);
    // Fetched ahead: a reader that stops before awaiting it must not leave a rejection unhandled.
    p.catch(() => {});
    return p;
  };
  let next = read(0);
  for (let i = 0; next !== undefined; i++) {
    const group = await next;
    next = read(i + 1);
    for (let from = 0; from < group.rows; from += BATCH_ROWS) {
      const to = Math.min(group.rows, from + BATCH_ROWS);
      yield {
        rowGroup: group.rowGroup,
        firstRow: group.firstRow + from,
        records: recordsOf(group, from, to),
      };
    }
  }
}

/** A row group a split owns: its index, and the index in the file of its first row. */
export interface OwnedRowGroup {
  rowGroup: number;
  firstRow: number;
}

/** The row groups whose data starts inside the split's byte range (see rowGroupStart), in file order. */
export function ownedRowGroups(file: ParquetFile, split: Split): OwnedRowGroup[] {
  const owned: OwnedRowGroup[] = [];
  let firstRow = 0;
  for (const [g, group] of file.metadata.row_groups.entries()) {
    const at = rowGroupStart(file.metadata, g);
    if (at >= split.start && at < split.end) owned.push({ rowGroup: g, firstRow });
    firstRow += Number(group.num_rows);
  }
  return owned;
}

/** One row group's named columns, decoded: a value array per column, and what it still needs. */
export interface DecodedRowGroup {
  rowGroup: number;
  /** 0-based index in the file of the row group's first row. */
  firstRow: number;
  rows: number;
  names: readonly string[];
  values: readonly ArrayLike<unknown>[];
  /** Per column, what makes its values JSON (see converterOf), or undefined when they are. */
  convert: readonly (((v: unknown) => unknown) | undefined)[];
}

/** Decodes the named columns of row group `g` (its first row at `firstRow` of the file). */
export async function decodeRowGroup(
  file: ParquetFile,
  g: number,
  firstRow: number,
  columns: readonly string[] | undefined,
): Promise<DecodedRowGroup> {
  const rows = Number(file.metadata.row_groups[g]?.num_rows ?? 0);
  const names = columns ?? file.columns.map((c) => c.element.name);
  const pieces = new Map<string, DecodedArray[]>(names.map((c) => [c, []]));
  try {
    await parquetRead({
      file: file.bytes,
      metadata: file.metadata,
      columns: [...names],
      rowStart: firstRow,
      rowEnd: firstRow + rows,
      compressors,
      parsers: PARQUET_PARSERS,
      // Binary stays bytes (and becomes base64); columns typed as strings are decoded as UTF-8.
      utf8: false,
      onChunk: (chunk) => pieces.get(chunk.columnName)?.push(chunk.columnData),
    });
  } catch (err) {
    if (err instanceof FanoutError) throw err; // the store's, from a ranged read
    throw new BadRecordError(
      `input ${file.name} row group ${g} cannot be decoded (${(err as Error).message})`,
      { cause: err },
    );
  }
  const values = names.map((c) => {
    const parts = pieces.get(c) as DecodedArray[];
    const one = parts.length === 1 ? parts[0] : parts.flatMap((p) => Array.from(p as ArrayLike<unknown>));
    if (one === undefined || one.length !== rows) {
      throw new BadRecordError(
        `input ${file.name} row group ${g}: column ${c} decoded to ${one?.length ?? 0} values for ${rows} rows`,
      );
    }
    return one as ArrayLike<unknown>;
  });
  const convert = names.map((c) => {
    const column = file.columns.find((k) => k.element.name === c);
    return column && converterOf(column);
  });
  return { rowGroup: g, firstRow, rows, names, values, convert };
}

/** The records of rows `[from, to)` of a decoded row group. */
export function recordsOf(group: DecodedRowGroup, from: number, to: number): Record<string, unknown>[] {
  const { names, values, convert } = group;
  const records: Record<string, unknown>[] = new Array(to - from);
  const n = names.length;
  for (let i = from; i < to; i++) {
    const r: Record<string, unknown> = {};
    for (let c = 0; c < n; c++) {
      const v = (values[c] as ArrayLike<unknown>)[i];
      const f = convert[c];
      r[names[c] as string] = f === undefined ? (v ?? null) : f(v);
    }
    records[i - from] = r;
  }
  return records;
}

/**
 * A map's error with the record it threw on: `/data/a.parquet row group 3 row 12345` (the row
 * counted from 0 in the file, as `LIMIT 1 OFFSET 12345` would find it). Other errors as they were.
 */
export function atParquetRow(err: FanoutError, split: Split, batch: ParquetBatch, i: number): FanoutError {
  if (!(err instanceof UserCodeError)) return err;
  const where = `${objectName(split)} row group ${batch.rowGroup} row ${batch.firstRow + i}`;
  const wrapped = new UserCodeError(`${err.message} (${where})`, {
    cause: err,
    retryable: err.retryable,
    context: err.context,
  });
  if (err.stack) wrapped.stack = err.stack;
  return wrapped;
}
