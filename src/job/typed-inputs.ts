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
