// Placeholder until the output-formats branch lands: JSONL only. Replaced by that branch's module.
import type { ObjectWriter } from '../store/object-store.js';

export interface RecordSink {
  write(record: unknown): void;
  writeKeyValue(key: unknown, value: unknown): void;
  readonly full: boolean;
  flush(): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
  readonly records: number;
  readonly bytes: number;
}

export function openRecordSink(out: ObjectWriter): RecordSink {
  let lines: string[] = [];
  let chars = 0;
  let records = 0;
  let bytes = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    lines.push('');
    const chunk = Buffer.from(lines.join('\n'));
    lines = [];
    chars = 0;
    bytes += chunk.length;
    await out.write(chunk);
  };
  const write = (record: unknown) => {
    const line = JSON.stringify(record);
    lines.push(line);
    chars += line.length + 1;
    records++;
  };
  return {
    write,
    writeKeyValue: (key, value) => write({ key, value }),
    get full() {
      return chars >= 1 << 20;
    },
    flush,
    close: async () => {
      await flush();
      await out.close();
    },
    abort: () => out.abort(),
    get records() {
      return records;
    },
    get bytes() {
      return bytes;
    },
  };
}
