import { BadRecordError } from '../errors.js';
import { previewLine } from './preview-line.js';

/**
 * Splits one CSV line into fields (RFC 4180 quoting: `"a,b"`, `"say ""hi"""`). A record is one
 * line: quoted fields may hold the delimiter and quotes but not newlines, so splits stay line-aligned.
 * With `limit`, only the first `limit` fields are read and the rest of the line is never scanned
 * (a quote left open there goes unnoticed, as those fields are not read).
 * @throws {BadRecordError} for a quote still open at the end of the line: taking the rest of the
 * line as one field would hide the record's other fields.
 */
export function parseCsvLine(line: string, delimiter: string, limit = Number.POSITIVE_INFINITY): string[] {
  if (limit === Number.POSITIVE_INFINITY && !line.includes('"')) return line.split(delimiter);
  const fields: string[] = [];
  let i = 0;
  while (fields.length < limit) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          throw new BadRecordError(
            `bad CSV line: unclosed quote in field ${fields.length + 1}: ${previewLine(line)}`,
          );
        }
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      // Anything between the closing quote and the delimiter is kept, as lenient readers do.
      const d = line.indexOf(delimiter, i);
      value += line.slice(i, d < 0 ? line.length : d);
      fields.push(value);
      if (d < 0) return fields;
      i = d + 1;
    } else {
      const d = line.indexOf(delimiter, i);
      if (d < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, d));
      i = d + 1;
    }
  }
  return fields;
}
