import type { ObjectWriter } from '../store/object-store.js';
import type { Column } from './columns.js';
import type { BatchEncoder } from './row-sink.js';

/**
 * CSV as RFC 4180 has it: a header line of the column names, then a line per row, comma-separated,
 * a field quoted where it holds a comma, a quote or a line break (quotes doubled). A null is an
 * empty field, an empty string `""`, so a reader can tell them apart; json columns hold JSON text.
 */
export function csvEncoder(out: ObjectWriter, columns: readonly Column[]): BatchEncoder {
  let bytes = 0;
  let header: string | undefined = `${columns.map((c) => quote(c.name)).join(',')}\n`;
  return {
    async batch(values, rows) {
      const lines: string[] = header === undefined ? [] : [header.slice(0, -1)];
      header = undefined;
      for (let r = 0; r < rows; r++) {
        let line = '';
        for (let c = 0; c < columns.length; c++) {
          const v = (values[c] as unknown[])[r];
          if (c > 0) line += ',';
          if (v === null) continue;
          const type = (columns[c] as Column).type;
          line += type === 'string' || type === 'json' ? quote(v as string) : String(v);
        }
        lines.push(line);
      }
      lines.push('');
      const chunk = Buffer.from(lines.join('\n'));
      bytes += chunk.length;
      await out.write(chunk);
    },
    async finish() {
      if (header === undefined) return;
      // No rows, declared columns: the header alone.
      const chunk = Buffer.from(header);
      header = undefined;
      bytes += chunk.length;
      await out.write(chunk);
    },
    get bytes() {
      return bytes;
    },
  };
}

function quote(s: string): string {
  return s === '' || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
