import { BadRecordError, JobDefinitionError } from '../errors.js';
import { parseCsvLine } from './csv.js';
import { previewLine } from './preview-line.js';
import type { InputSpec } from './types.js';

/** Turns one line into the record `map` receives, or `undefined` to skip the line. */
export type RecordParser = (line: string) => unknown;

/**
 * Builds the parser for an input spec. For csv with `header: true`, `header` is the file's first line;
 * the caller skips that line itself where a split starts at byte 0.
 */
export function recordParser(input: InputSpec, header?: string): RecordParser {
  switch (input.format) {
    case 'text':
      return (line) => line;
    case 'jsonl':
      return (line) => {
        if (line.trim() === '') return undefined;
        try {
          return JSON.parse(line);
        } catch (err) {
          throw new BadRecordError(`bad JSON line: ${(err as Error).message}: ${previewLine(line)}`);
        }
      };
    case 'csv': {
      const delimiter = input.delimiter ?? ',';
      const names = input.header ? parseCsvLine(header ?? '', delimiter) : undefined;
      const positions = input.columns ? columnPositions(input.columns, names) : undefined;
      // With columns, only theirs are cut out of each line (see parseCsvLine's `keep`).
      const limit = positions ? Math.max(...positions) + 1 : Number.POSITIVE_INFINITY;
      const keep = positions && Array.from({ length: limit }, (_, i) => positions.includes(i));
      if (!names) {
        if (!positions) return (line) => (line === '' ? undefined : parseCsvLine(line, delimiter));
        return (line) => {
          if (line === '') return undefined;
          // The row is the fields' own array: columns past the line's end read as ''.
          const row = parseCsvLine(line, delimiter, limit, keep);
          for (const p of positions) row[p] ??= '';
          return row;
        };
      }
      const picked = positions ?? names.map((_, i) => i);
      return (line) => {
        if (line === '') return undefined;
        const fields = parseCsvLine(line, delimiter, limit, keep);
        const row: Record<string, string> = {};
        for (const p of picked) row[names[p] as string] = fields[p] ?? '';
        return row;
      };
    }
    case 'parquet':
      // Columns, not lines: readParquetSplit decodes its records.
      throw new JobDefinitionError('parquet input has no lines to parse');
  }
}

/**
 * The 0-based positions of a csv input's `columns`: given, or looked up in the header by name.
 * @throws {JobDefinitionError} for a name the header does not have.
 */
function columnPositions(
  columns: readonly number[] | readonly string[],
  names: string[] | undefined,
): number[] {
  return columns.map((c) => {
    if (typeof c === 'number') return c;
    const at = names?.indexOf(c) ?? -1;
    if (at < 0)
      throw new JobDefinitionError(
        `csv column "${c}" is not in the header: ${previewLine((names ?? []).join(','))}`,
      );
    return at;
  });
}
