import { BadRecordError } from '../errors.js';
import type { Split } from '../protocol/task-types.js';
import { objectName } from '../store/object-name.js';

/**
 * Where line `n` of a split is, 1-based, blank and header lines counted. For a split at byte 0 that
 * is the file's line number, as `sed -n 3p` counts: `/data/a.csv line 3`. A later split cannot
 * know how many lines came before it, so it counts from its first line, the first to start at or
 * after its first byte: `/data/a.csv line 12 after byte 67108864`.
 */
export function describeLine(split: Split, n: number): string {
  return `${objectName(split)} line ${n}${split.start === 0 ? '' : ` after byte ${split.start}`}`;
}

/** A BadRecordError naming the file and line of the record, or any other error as it was. */
export function atLine(err: unknown, split: Split, n: number): unknown {
  if (!(err instanceof BadRecordError)) return err;
  return new BadRecordError(`${err.message} (${describeLine(split, n)})`, {
    cause: err,
    context: err.context,
  });
}
