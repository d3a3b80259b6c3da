import {
  AsyncByteQueue,
  Bool,
  type DataType,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { ObjectWriter } from '../store/object-store.js';
import type { Column } from './columns.js';
import type { ColumnType } from './output-spec.js';
import type { BatchEncoder } from './row-sink.js';

/** Holds what the Arrow writer writes until the encoder hands it on (the writer writes synchronously). */
class Collect extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }
}

const arrowType = (t: ColumnType): DataType => {
  switch (t) {
    case 'boolean':
      return new Bool();
    case 'double':
      return new Float64();
    case 'int64':
      return new Int64();
    default:
      return new Utf8();
  }
};

/**
 * An Arrow IPC file (the random-access format, `.arrow`): one record batch per batch of rows, every
 * column nullable; a json column is UTF-8 JSON text tagged with the `arrow.json` extension name.
 */
export function arrowEncoder(out: ObjectWriter, columns: readonly Column[]): BatchEncoder {
  const schema = new Schema(
    columns.map(
      (c) =>
        new Field(
          c.name,
          arrowType(c.type),
          true,
          c.type === 'json' ? new Map([['ARROW:extension:name', 'arrow.json']]) : undefined,
        ),
    ),
  );
  const sink = new Collect();
  const writer = new RecordBatchFileWriter({ autoDestroy: false });
  writer.reset(sink as never, schema);
  let bytes = 0;
  const drain = async () => {
    const chunks = sink.chunks;
    sink.chunks = [];
    for (const c of chunks) {
      bytes += c.byteLength;
      await out.write(c);
    }
  };
  return {
    async batch(values, rows) {
      const children = columns.map((c, i) => {
        const column = values[i] as unknown[];
        // A json column's values come as JSON text (see columnValues).
        const cells =
          c.type === 'int64' ? column.map((v) => (v === null ? null : BigInt(v as number))) : column;
        return vectorFromArray(cells as never, (schema.fields[i] as Field).type).data[0];
      });
      const data = makeData({
        type: new Struct(schema.fields),
        length: rows,
        nullCount: 0,
        children: children as never,
      });
      writer.write(new RecordBatch(schema, data));
      await drain();
    },
    async finish() {
      writer.finish();
      await drain();
    },
    get bytes() {
      return bytes;
    },
  };
}
