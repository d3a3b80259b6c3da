/**
 * Records as rows of named columns, for the formats that have columns (CSV, Arrow, Parquet). A
 * map-only stage's record that is an object gives its fields; any other record is one column,
 * `value`. A reduce's `{ key, value }` gives `key` and, where the value is an object, its fields
 * beside it (`{ key: 'fr', revenue: 12.5, orders: 3 }`), else `value`.
 */
import { UserCodeError } from '../errors.js';
import { jsonText } from '../shuffle/json-text.js';
import type { ColumnType } from './output-spec.js';

export interface Column {
  name: string;
  type: ColumnType;
}

export type Row = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);

export function rowOfRecord(record: unknown): Row {
  return isPlainObject(record) ? record : { value: record };
}

export function rowOfKeyValue(key: unknown, value: unknown): Row {
  if (!isPlainObject(value)) return { key, value };
  if (Object.hasOwn(value, 'key'))
    throw new UserCodeError(
      'reduce emitted a value with a field named "key", which would hide the key column of the part file; rename the field',
      { retryable: false },
    );
  return { key, ...value };
}

/**
 * The columns of a part from its first rows, in the order their fields first appear: booleans,
 * numbers (as double, so parts agree whether or not their numbers happen to be whole; declare
 * `int64` for integers), strings; any other value, or a mix, as JSON text. A field with nothing but
 * nulls is a string column.
 */
export function inferColumns(rows: readonly Row[]): Column[] {
  const kinds = new Map<string, ColumnType | undefined>();
  for (const row of rows) {
    for (const name in row) {
      const v = row[name];
      const kind = kindOf(v);
      const seen = kinds.get(name);
      if (!kinds.has(name) || seen === undefined) kinds.set(name, kind);
      else if (kind !== undefined && kind !== seen) kinds.set(name, 'json');
    }
  }
  return [...kinds].map(([name, type]) => ({ name, type: type ?? 'string' }));
}

function kindOf(v: unknown): ColumnType | undefined {
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'double';
    case 'string':
      return 'string';
    case 'undefined':
      return undefined;
    default:
      return v === null ? undefined : 'json';
  }
}

/**
 * The rows' values column by column, checked against the columns' types: null where a row lacks a
 * field; a json column's values as JSON text when `jsonAsText` (CSV and Arrow write that text),
 * else as they are (hyparquet-writer encodes them itself). @throws {UserCodeError} (not retried:
 * the same records fail again) for a field not among the columns or a value that does not fit its
 * column's type.
 */
export function columnValues(
  columns: readonly Column[],
  rows: readonly Row[],
  declared: boolean,
  jsonAsText: boolean,
): unknown[][] {
  const out = columns.map(() => new Array<unknown>(rows.length));
  const index = new Map(columns.map((c, i) => [c.name, i]));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    for (const name in row) {
      if (!index.has(name)) throw unknownField(name, columns, declared);
    }
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c] as Column;
      const v = row[col.name];
      (out[c] as unknown[])[r] = v === undefined || v === null ? null : fitted(col, v, declared, jsonAsText);
    }
  }
  return out;
}

function fitted(col: Column, v: unknown, declared: boolean, jsonAsText: boolean): unknown {
  switch (col.type) {
    case 'string':
      if (typeof v === 'string') return v;
      break;
    case 'double':
      if (typeof v === 'number') return v;
      break;
    case 'int64':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      break;
    case 'json': {
      const text = jsonText(v, 'value');
      return jsonAsText ? text : v;
    }
  }
  const shown =
    typeof v === 'string' ? JSON.stringify(v).slice(0, 60) : String(jsonText(v, 'value')).slice(0, 60);
  return failFit(col, shown, declared);
}

function failFit(col: Column, shown: string, declared: boolean): never {
  throw new UserCodeError(
    `output column "${col.name}" is ${col.type}${declared ? ' (declared in output.columns)' : " (from the part's first records)"} but a record has ${shown} there${declared ? '' : `; declare output.columns to give it a type`}`,
    { retryable: false },
  );
}

function unknownField(name: string, columns: readonly Column[], declared: boolean): UserCodeError {
  const names = columns.map((c) => c.name).join(', ');
  return new UserCodeError(
    `output record has a field "${name}" not among the part's columns (${names})${declared ? ', declared in output.columns' : "; a part's columns come from its first records: declare output.columns to name them all"}`,
    { retryable: false },
  );
}

/** `key:string,value:double`: how part results say which columns they wrote, to be compared. */
export function columnsSignature(columns: readonly Column[]): string {
  return columns.map((c) => `${c.name}:${c.type}`).join(',');
}
