import type { ObjectWriter } from '../store/object-store.js';
import { checkKey, checkValue } from '../task/emit-checks.js';
import { type Column, columnValues, inferColumns, type Row, rowOfKeyValue, rowOfRecord } from './columns.js';
import { csvEncoder } from './csv-encoder.js';
import type { ColumnType, OutputFormat } from './output-spec.js';
import type { PartSink } from './part-sink.js';

/** Writes batches of rows, column by column, in one format; made once the part's columns are known. */
export interface BatchEncoder {
  /** Encodes one batch (`values[c][r]`, checked against the columns) and writes it out. */
  batch(values: readonly unknown[][], rows: number): Promise<void>;
  /** Writes what closes the file (Arrow's footer, Parquet's metadata). */
  finish(): Promise<void>;
  /** Bytes handed to the writer so far. */
  readonly bytes: number;
}

/** A batch is written once it holds this many rows, or about this many bytes of text in them. */
const BATCH_ROWS = 65_536;
const BATCH_CHARS = 16 << 20;

/**
 * A part file of CSV, Arrow or Parquet: records held as rows until a batch fills, each batch
 * written as a row group (Parquet), a record batch (Arrow) or lines (CSV). The part's columns are
 * the declared ones, or those of its first batch (see inferColumns).
 */
export class RowSink implements PartSink {
  readonly #out: ObjectWriter;
  readonly #format: Exclude<OutputFormat, 'jsonl'>;
  readonly #declared: readonly Column[] | undefined;
  #columns: readonly Column[] | undefined;
  #encoder: BatchEncoder | undefined;
  #rows: Row[] = [];
  #chars = 0;
  records = 0;

  constructor(
    out: ObjectWriter,
    format: Exclude<OutputFormat, 'jsonl'>,
    declared: Readonly<Record<string, ColumnType>> | undefined,
  ) {
    this.#out = out;
    this.#format = format;
    this.#declared = declared && Object.entries(declared).map(([name, type]) => ({ name, type }));
    this.#columns = this.#declared;
  }

  readonly emit = (key: unknown, value: unknown): void => {
    if (typeof key !== 'string') checkKey('reduce', key);
    this.#add(rowOfKeyValue(key, value === undefined ? null : value));
  };

  readonly write = (record: unknown): void => {
    checkValue('map', record);
    this.#add(rowOfRecord(record));
  };

  #add(row: Row): void {
    this.#rows.push(row);
    let chars = 8;
    for (const k in row) {
      const v = row[k];
      chars += typeof v === 'string' ? v.length + 8 : 8;
    }
    this.#chars += chars;
    this.records++;
  }

  get full(): boolean {
    return this.#rows.length >= BATCH_ROWS || this.#chars >= BATCH_CHARS;
  }

  get columns(): readonly Column[] | undefined {
    return this.#columns;
  }

  get bytes(): number {
    return this.#encoder?.bytes ?? 0;
  }

  async flush(): Promise<void> {
    const rows = this.#rows;
    if (rows.length === 0) return;
    this.#rows = [];
    this.#chars = 0;
    this.#columns ??= inferColumns(rows);
    const values = columnValues(
      this.#columns,
      rows,
      this.#declared !== undefined,
      this.#format !== 'parquet',
    );
    this.#encoder ??= await this.#open(this.#columns);
    await this.#encoder.batch(values, rows.length);
  }

  async close(): Promise<boolean> {
    await this.flush();
    if (this.#columns === undefined) {
      await this.#out.abort();
      return false;
    }
    this.#encoder ??= await this.#open(this.#columns);
    await this.#encoder.finish();
    await this.#out.close();
    return true;
  }

  async abort(): Promise<void> {
    await this.#out.abort();
  }

  /** Arrow and Parquet are loaded when first written: a task that writes JSONL never pays for them. */
  async #open(columns: readonly Column[]): Promise<BatchEncoder> {
    switch (this.#format) {
      case 'csv':
        return csvEncoder(this.#out, columns);
      case 'arrow':
        return (await import('./arrow-encoder.js')).arrowEncoder(this.#out, columns);
      case 'parquet':
        return (await import('./parquet-encoder.js')).parquetEncoder(this.#out, columns);
    }
  }
}
