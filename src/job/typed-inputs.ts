import type { BadRecordPolicy, TypedInput } from './types.js';

/**
 * A JSONL input whose records are of type T: `input: jsonl<Click>()` gives `map` a `Click` for
 * each line, with no cast. T is a type only: lines are parsed as JSON and not checked against it.
 * A policy for lines that are not JSON may be given as for `{ format: 'jsonl' }`.
 */
export function jsonl<T>(
  policy: BadRecordPolicy = {},
): { format: 'jsonl' } & BadRecordPolicy & TypedInput<T> {
  return { format: 'jsonl', ...policy };
}

/**
 * A Parquet input whose rows are of type T: `input: parquet<Visit>({ columns: ['sourceIP',
 * 'adRevenue'] })` gives `map` a `Visit` for each row, and the columns must be fields of T. Name in T
 * the columns the job reads. T is a type only: the rows are the file's values, mapped to JSON as the
 * README says, and not checked against it.
 */
export function parquet<T>(
  options: { columns?: readonly (keyof T & string)[] } = {},
): { format: 'parquet'; columns?: readonly string[] } & TypedInput<T> {
  return { format: 'parquet', ...(options.columns && { columns: options.columns }) };
}
