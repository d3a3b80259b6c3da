import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import type { ObjectWriter } from '../store/object-store.js';
import type { Column } from './columns.js';
import type { ColumnType } from './output-spec.js';
import type { BatchEncoder } from './row-sink.js';

const PARQUET_TYPE = {
  string: 'STRING',
  int64: 'INT64',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  json: 'JSON',
} as const satisfies Record<ColumnType, string>;

/**
 * hyparquet-writer's buffer, emptied into the part file after each row group (ParquetWriter awaits
 * `flush`) and at the end; `offset` keeps counting the file's bytes, which the metadata points into.
 */
class PartByteWriter extends ByteWriter {
  readonly #out: ObjectWriter;
  written = 0;

  constructor(out: ObjectWriter) {
    super(1 << 20);
    this.#out = out;
  }

  async flush(): Promise<void> {
    if (this.index === 0) return;
    const chunk = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    this.written += chunk.byteLength;
    await this.#out.write(chunk);
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

/**
 * A Parquet file through hyparquet-writer: one row group per batch of rows, every column optional,
 * Snappy-compressed pages; json columns are BYTE_ARRAY annotated JSON.
 */
export function parquetEncoder(out: ObjectWriter, columns: readonly Column[]): BatchEncoder {
  const byteWriter = new PartByteWriter(out);
  const schema = schemaFromColumnData({
    columnData: columns.map((c) => ({ name: c.name, data: [], type: PARQUET_TYPE[c.type], nullable: true })),
  });
  const writer = new ParquetWriter({ writer: byteWriter, schema, createdBy: 'fanout' });
  return {
    async batch(values, rows) {
      const columnData = columns.map((c, i) => {
        const column = values[i] as unknown[];
        return {
          name: c.name,
          data: c.type === 'int64' ? column.map((v) => (v === null ? null : BigInt(v as number))) : column,
        };
      });
      await writer.write({ columnData: columnData as never, rowGroupSize: rows });
    },
    async finish() {
      await writer.finish();
    },
    get bytes() {
      return byteWriter.written + byteWriter.index;
    },
  };
}
