/**
 * How a job's part files are written: the format, gzip for the text ones, and for the columnar ones
 * (and CSV's header) the columns, declared or inferred. Only the last stage's part files take it;
 * stages before it write JSONL the next stage reads.
 */
import { UsageError } from '../errors.js';

export const OUTPUT_FORMATS = ['jsonl', 'csv', 'arrow', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Column types a declared schema may name. */
export const COLUMN_TYPES = ['string', 'int64', 'double', 'boolean', 'json'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface OutputSpec {
  /** @default 'jsonl' */
  format: OutputFormat;
  /** Gzip each part file (`part-00000.jsonl.gz`): JSONL and CSV only. */
  compression?: 'gzip';
  /**
   * The columns of CSV, Arrow and Parquet part files, in order, with their types. Without it each
   * part infers its columns from its first records (see inferColumns), so declare it where parts
   * must agree: a sum that is whole in one part and fractional in another.
   */
  columns?: Readonly<Record<string, ColumnType>>;
}

export const DEFAULT_OUTPUT: OutputSpec = { format: 'jsonl' };

/** The part file's name ending: `.jsonl`, `.csv.gz`, `.arrow`, `.parquet`. */
export function partExtension(spec: OutputSpec | undefined): string {
  const format = spec?.format ?? 'jsonl';
  return `.${format}${spec?.compression === 'gzip' ? '.gz' : ''}`;
}

/** A run's format and compression over the job's, with the names a message gives them. */
export interface OutputOverrides {
  format?: string | undefined;
  compression?: string | undefined;
  /** What to call each in a message: `outputFormat`, `--output-format`. @default `${where}: format` */
  names?: { format: string; compression: string };
}

/**
 * Checks an output spec from a job file, an option or a flag, and lays `over` (run options) over
 * `base` (the job's own). @throws {UsageError} in one line naming what is wrong.
 */
export function resolveOutputSpec(base: unknown, over: OutputOverrides = {}, where = 'output'): OutputSpec {
  if (base !== undefined && (typeof base !== 'object' || base === null || Array.isArray(base)))
    throw new UsageError(`${where} must be an object such as { format: 'parquet' }`);
  const b = (base ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['format', 'compression', 'columns'].includes(k))
      throw new UsageError(`${where}: unknown option ${JSON.stringify(k)} (format, compression, columns)`);
  }
  const name = (field: 'format' | 'compression') =>
    over[field] !== undefined && over.names ? over.names[field] : `${where}: ${field}`;
  const format = over.format ?? b.format ?? 'jsonl';
  if (!OUTPUT_FORMATS.includes(format as OutputFormat))
    throw new UsageError(
      `${name('format')} must be one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    );
  const compression = over.compression ?? b.compression;
  if (compression !== undefined && compression !== 'gzip' && compression !== 'none')
    throw new UsageError(
      `${name('compression')} must be 'gzip' or 'none', got ${JSON.stringify(compression)}`,
    );
  const gzip = compression === 'gzip';
  if (gzip && (format === 'arrow' || format === 'parquet'))
    throw new UsageError(
      `${where}: ${format} part files compress their own pages; compression 'gzip' is for jsonl and csv`,
    );
  const spec: OutputSpec = { format: format as OutputFormat, ...(gzip && { compression: 'gzip' as const }) };
  if (b.columns === undefined) return spec;
  if (typeof b.columns !== 'object' || b.columns === null || Array.isArray(b.columns))
    throw new UsageError(
      `${where}: columns must map column names to types, such as { key: 'string', value: 'int64' }`,
    );
  const columns = b.columns as Record<string, unknown>;
  if (Object.keys(columns).length === 0) throw new UsageError(`${where}: columns names no column`);
  for (const [name, type] of Object.entries(columns)) {
    if (!COLUMN_TYPES.includes(type as ColumnType))
      throw new UsageError(
        `${where}: column ${JSON.stringify(name)} has type ${JSON.stringify(type)}; types are ${COLUMN_TYPES.join(', ')}`,
      );
  }
  return { ...spec, columns: columns as Record<string, ColumnType> };
}
