import { BadRecordError } from '../errors.js';
import { previewLine } from './preview-line.js';

/**
 * Splits one CSV line into fields (RFC 4180 quoting: `"a,b"`, `"say ""hi"""`). A record is one
 * line: quoted fields may hold the delimiter and quotes but not newlines, so splits stay line-aligned.
 * With `limit`, only the first `limit` fields are read and the rest of the line is never scanned
 * (a quote left open there goes unnoticed, as those fields are not read). With `keep`, only the
 * fields at positions it marks are cut out of the line, into an array `limit` long whose other
 * positions stay empty: a job that reads two columns of nine makes no string for the others.
 * @throws {BadRecordError} for a quote still open at the end of the line: taking the rest of the
 * line as one field would hide the record's other fields.
 */
export function parseCsvLine(
  line: string,
  delimiter: string,
  limit = Number.POSITIVE_INFINITY,
  keep?: readonly boolean[],
): string[] {
  if (limit === Number.POSITIVE_INFINITY && !line.includes('"')) return line.split(delimiter);
  const fields: string[] = keep ? new Array(limit) : [];
  let f = 0;
  let i = 0;
  for (; f < limit; f++) {
    const wanted = keep === undefined || keep[f] === true;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          throw new BadRecordError(`bad CSV line: unclosed quote in field ${f + 1}: ${previewLine(line)}`);
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
      if (wanted) fields[f] = value + line.slice(i, d < 0 ? line.length : d);
      if (d < 0) return fields;
      i = d + 1;
    } else {
      const d = line.indexOf(delimiter, i);
      if (d < 0) {
        if (wanted) fields[f] = line.slice(i);
        return fields;
      }
      if (wanted) fields[f] = line.slice(i, d);
      i = d + 1;
    }
  }
  return fields;
}
