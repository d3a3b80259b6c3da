import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadata,
  parquetSchema,
  type SchemaTree,
} from 'hyparquet';
import { BadRecordError, FanoutError, JobDefinitionError, toFanoutError } from '../errors.js';
import type { Split } from '../protocol/task-types.js';
import { objectName } from '../store/object-name.js';
import type { ObjectStore, ReadExpectation } from '../store/object-store.js';
import { PARQUET_PARSERS } from './parquet-values.js';

/** `PAR1`, little-endian: the last four bytes of every Parquet file (and its first four). */
const MAGIC = 0x31524150;
/** Magic plus the footer's length: the smallest tail that says where the footer starts. */
const TAIL_BYTES = 8;
/**
 * Bytes read from a file's end for its footer: enough for the footer of a file of a few hundred
 * columns in one request; a larger footer costs one more.
 */
const FOOTER_FETCH = 64 * 1024;

/** A Parquet object opened for reading: its footer, its top-level columns, and its bytes on demand. */
export interface ParquetFile {
  /** How the object is named in messages: `/data/a.parquet`, `s3://bucket/a.parquet`. */
  readonly name: string;
  readonly metadata: FileMetaData;
  /** The top-level columns, in the file's order. */
  readonly columns: readonly SchemaTree[];
  /** The object's bytes by ranged reads, for hyparquet. */
  readonly bytes: AsyncBuffer;
}

/**
 * The object's bytes as hyparquet reads them: each slice is one ranged read of the version of the
 * object that was planned (`ObjectStore.get` with the split's size and etag), so a local file and
 * an S3 object are read alike, and a file rewritten while the job runs fails as InputChangedError.
 */
export function objectBytes(store: ObjectStore, split: Split): AsyncBuffer {
  const expected: ReadExpectation =
    split.etag === undefined ? { size: split.size } : { size: split.size, etag: split.etag };
  return {
    byteLength: split.size,
    async slice(start: number, end = split.size): Promise<ArrayBuffer> {
      let got: Uint8Array;
      try {
        got = await store.get(split.key, { start, end }, expected);
      } catch (err) {
        // The store's own failure (retryable or not), never taken for a broken file below.
        throw toFanoutError(err);
      }
      if (got.byteLength !== end - start) {
        throw new FanoutError(
          `reading ${objectName(split)} bytes [${start}, ${end}) gave ${got.byteLength} bytes`,
          { retryable: true },
        );
      }
      // A small Buffer is a view of a shared pool (and Buffer#slice is no copy): copy out a view.
      const whole = got.byteOffset === 0 && got.byteLength === got.buffer.byteLength;
      return (
        whole ? got.buffer : got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength)
      ) as ArrayBuffer;
    },
  };
}

/**
 * Opens a split's Parquet object: reads its footer from its end (one ranged read, two for a large
 * footer) and checks the columns named are in it.
 * @throws {BadRecordError} when the object is not Parquet (no `PAR1` at its end) or its footer cannot
 * be read.
 * @throws {JobDefinitionError} when a column named is not in the file.
 */
export async function openParquetFile(
  store: ObjectStore,
  split: Split,
  columns: readonly string[] | undefined,
): Promise<ParquetFile> {
  const name = objectName(split);
  const bytes = objectBytes(store, split);
  const notParquet = (why: string) => new BadRecordError(`input ${name} is not a Parquet file (${why})`);
  if (split.size < TAIL_BYTES + 4) throw notParquet(`${split.size} bytes, too short to be one`);
  let tail = new Uint8Array(await bytes.slice(Math.max(0, split.size - FOOTER_FETCH), split.size));
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(tail.byteLength - 4, true) !== MAGIC) throw notParquet('it does not end in PAR1');
  const footerBytes = view.getUint32(tail.byteLength - TAIL_BYTES, true) + TAIL_BYTES;
  if (footerBytes > split.size) throw notParquet(`its footer says ${footerBytes} bytes, more than the file`);
  if (footerBytes > tail.byteLength) {
    tail = new Uint8Array(await bytes.slice(split.size - footerBytes, split.size));
  }
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(tail, { parsers: PARQUET_PARSERS });
  } catch (err) {
    throw new BadRecordError(`input ${name}: its Parquet footer cannot be read (${(err as Error).message})`, {
      cause: err,
    });
  }
  const file = { name, metadata, columns: parquetSchema(metadata).children, bytes };
  if (columns !== undefined) checkColumns(file, columns);
  return file;
}

/** @throws {JobDefinitionError} naming the first column of `wanted` the file does not have. */
function checkColumns(file: ParquetFile, wanted: readonly string[]): void {
  const names = new Set(file.columns.map((c) => c.element.name));
  const missing = wanted.find((c) => !names.has(c));
  if (missing === undefined) return;
  throw new JobDefinitionError(
    `parquet column ${JSON.stringify(missing)} is not in ${file.name}, whose columns are: ${[...names].join(', ')}`,
  );
}

/**
 * The byte at which a row group's data starts: its first column chunk's dictionary page if it has
 * one, else its first data page. A split owns the row groups that start inside its byte range.
 */
export function rowGroupStart(metadata: FileMetaData, group: number): number {
  const chunk = metadata.row_groups[group]?.columns[0];
  const meta = chunk?.meta_data;
  return Number(meta?.dictionary_page_offset ?? meta?.data_page_offset ?? chunk?.file_offset ?? 0);
}
