import { BadRecordError } from '../errors.js';
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
      if (!input.header) return (line) => (line === '' ? undefined : parseCsvLine(line, delimiter));
      const names = parseCsvLine(header ?? '', delimiter);
      return (line) => {
        if (line === '') return undefined;
        const fields = parseCsvLine(line, delimiter);
        const row: Record<string, string> = {};
        for (let i = 0; i < names.length; i++) row[names[i] as string] = fields[i] ?? '';
        return row;
      };
    }
  }
}
