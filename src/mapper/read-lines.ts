import { isAscii } from 'node:buffer';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import {
  BadRecordError,
  FanoutError,
  InputChangedError,
  inputChanged,
  UnreadableCompressionError,
} from '../errors.js';
import {
  COMPRESSION_NAMES,
  compressionOf,
  isReadable,
  type ReadableCompression,
  SNIFF_BYTES,
} from '../job/input-compression.js';
import type { Split } from '../protocol/task-types.js';
import { objectName } from '../store/object-name.js';
import type { ByteRange, ObjectStore } from '../store/object-store.js';

const NL = 0x0a;
const CR = 0x0d;
/**
 * How far the first read goes past a split's end to finish its last record: as far as the split is
 * long, from MIN_OVERREAD to FIRST_OVERREAD. The reads after it double while the record goes on.
 */
const MIN_OVERREAD = 4 * 1024;
const FIRST_OVERREAD = 64 * 1024;
const MAX_OVERREAD = 8 * 1024 * 1024;

/**
 * Streams the byte range `[from, to)` of an object and on past `to`, in growing steps, until the
 * consumer stops (it stops once the record straddling `to` is complete). The first step is read with
 * the range itself, so a split whose last record ends soon after it takes one request (one open of a
 * local file, one GET on S3) instead of two; a small split does not read 64 KiB past its end.
 */
async function* rangeThenOverread(store: ObjectStore, split: Split, from: number): AsyncIterable<Uint8Array> {
  let step = Math.min(FIRST_OVERREAD, Math.max(MIN_OVERREAD, split.end - from));
  let pos = Math.min(split.size, split.end + step);
  yield* planned(store, split, { start: from, end: pos });
  while (pos < split.size) {
    step = Math.min(step * 2, MAX_OVERREAD);
    const end = Math.min(split.size, pos + step);
    yield* planned(store, split, { start: pos, end });
    pos = end;
  }
}

/**
 * Every byte of `range` (or of the whole object) of the version of a split's object that was
 * planned. The store checks the object's size and etag as it opens it; a stream that ends early
 * means the object was cut short while being read. Either way the task fails without a retry:
 * counting what is left would be a wrong answer.
 */
async function* planned(store: ObjectStore, split: Split, range?: ByteRange): AsyncIterable<Uint8Array> {
  const expected = split.etag === undefined ? { size: split.size } : { size: split.size, etag: split.etag };
  let pos = range?.start ?? 0;
  for await (const chunk of store.stream(split.key, range, expected)) {
    pos += chunk.byteLength;
    yield chunk;
  }
  if (pos < Math.min(range?.end ?? split.size, split.size)) throw await cutShort(store, split, pos);
}

/** Why a read of a split's object ended at `pos`, before the bytes it was planned with. */
async function cutShort(store: ObjectStore, split: Split, pos: number): Promise<FanoutError> {
  const now = await store.head(split.key);
  if (now && now.size === split.size && (split.etag === undefined || now.etag === split.etag)) {
    // The object is as planned: the transfer, not the object, came up short; another attempt may not.
    return new FanoutError(`reading ${objectName(split)} ended at byte ${pos} of ${split.size}`, {
      retryable: true,
    });
  }
  return inputChanged(objectName(split), split.size, now?.size ?? 'gone');
}

/**
 * The lines a split owns, in batches, without line endings (`\n` or `\r\n`).
 *
 * A split owns the lines that start inside `[start, end)`: unless it starts at byte 0 it skips
 * through the first newline at or after `start - 1` (reading from `start - 1` catches a line that
 * starts exactly at `start`), and it reads past `end` to finish the line that starts before `end`.
 * Splitting on the byte 0x0A is safe for UTF-8: it never occurs inside a multi-byte character.
 * A final line without a newline counts; the empty string after a final newline does not.
 */
export async function* readLines(store: ObjectStore, split: Split): AsyncGenerator<string[]> {
  for await (const run of lineRuns(store, split)) yield splitLines(textOf(run));
}

/**
 * A run's text. ASCII, the common case, is decoded as Latin-1, which gives the same string: checking
 * and copying (simdutf, then a plain copy) took 16 ms for 32 MiB of CSV here, V8's UTF-8 decoder 28.
 */
function textOf(run: Buffer): string {
  return isAscii(run) ? run.toString('latin1') : run.toString('utf8');
}

/**
 * The bytes of the lines a split owns (see readLines), in runs of whole lines: each run is one or more
 * lines joined by their `\n`, without the last one's. A run of k lines holds k - 1 newlines.
 *
 * A split at byte 0 first looks at its object's first bytes, in the chunks it reads anyway (no
 * request of its own): gzip and Brotli are decompressed, other compressions refused, so compressed
 * bytes are never read as text, whatever the object is named (see compressionOf).
 */
export async function* lineRuns(store: ObjectStore, split: Split): AsyncGenerator<Buffer> {
  if (split.start > 0) {
    // Planning cuts only plain objects into byte ranges (splitObject): nothing here to look at.
    const from = split.start - 1;
    yield* runsOf(rangeThenOverread(store, split, from), from, split.end, true);
    return;
  }
  const chunks = rangeThenOverread(store, split, 0)[Symbol.asyncIterator]();
  try {
    const first = await firstBytes(chunks);
    const source = replay(first.chunks, chunks);
    const compression = compressionOf(split.key, first.head) ?? split.compression;
    if (compression === undefined) {
      yield* runsOf(source, 0, split.end, false);
      return;
    }
    const name = objectName(split);
    if (!isReadable(compression)) {
      throw new UnreadableCompressionError(
        `input ${name} is ${COMPRESSION_NAMES[compression]}-compressed, which Fanout cannot read yet: decompress it first`,
      );
    }
    // Planning looks at every object it cuts (sniffCompression): only a changed object gets here.
    if (split.end < split.size) {
      throw new InputChangedError(
        `input ${name} is ${COMPRESSION_NAMES[compression]}-compressed but was planned as plain text in byte ranges: it changed while the job ran; rerun once it is stable`,
      );
    }
    yield* runsOf(decompress(source, compression, split), 0, Number.POSITIVE_INFINITY, false);
  } finally {
    // Closes the object's stream however reading ended: done, stopped early, or refused.
    await chunks.return?.();
  }
}

/**
 * The chunks a stream starts with, read until they hold SNIFF_BYTES bytes (one chunk, as a rule),
 * and those first bytes.
 */
async function firstBytes(
  chunks: AsyncIterator<Uint8Array>,
): Promise<{ chunks: Uint8Array[]; head: Uint8Array }> {
  const pulled: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < SNIFF_BYTES) {
    const next = await chunks.next();
    if (next.done) break;
    pulled.push(next.value);
    bytes += next.value.byteLength;
  }
  const one = pulled.length === 1 ? pulled[0] : undefined;
  return { chunks: pulled, head: one ?? Buffer.concat(pulled).subarray(0, SNIFF_BYTES) };
}

/** The chunks already read, then the rest of the stream. Leaves closing the stream to its owner. */
async function* replay(pulled: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* pulled;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Decompresses a whole object. Bytes that are not what the object was taken for, or stop
 * mid-stream, fail as bad input: the same bytes fail the same way on every attempt. (A file cut
 * short while being read fails in `planned` first, before zlib sees its end.)
 */
async function* decompress(
  source: AsyncIterable<Uint8Array>,
  compression: ReadableCompression,
  split: Split,
): AsyncIterable<Uint8Array> {
  const z = compression === 'gzip' ? createGunzip() : createBrotliDecompress();
  const feed = (async () => {
    try {
      for await (const chunk of source) {
        // Stopped (bad data, or the reader had enough): leaving the loop closes the source's file.
        if (z.destroyed) return;
        if (!z.write(chunk)) await drainedOrClosed(z);
      }
      if (!z.destroyed) z.end();
    } catch (err) {
      z.destroy(err as Error);
    }
  })();
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } catch (err) {
    if (!isZlibError(err)) throw err;
    throw new BadRecordError(
      `input ${objectName(split)} is not valid ${COMPRESSION_NAMES[compression]} (${err.message})`,
      { cause: err },
    );
  }
  await feed;
}

/** Waits for zlib to take more, or to close: a stopped reader destroys it, and no drain comes. */
function drainedOrClosed(z: Transform): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      z.off('drain', done);
      z.off('close', done);
      resolve();
    };
    z.on('drain', done);
    z.on('close', done);
  });
}

/**
 * zlib's own errors (`Z_DATA_ERROR`, `Z_BUF_ERROR`; the Brotli decoder's `ERR__ERROR_FORMAT_...`),
 * not a store's error passed through it.
 */
function isZlibError(err: unknown): err is Error {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_'));
}

/**
 * Cuts a byte stream that begins at absolute offset `base` into runs of whole lines, keeping the
 * lines that start before `end`, skipping the partial first line when `skipFirst`. A line cut by a
 * chunk's end is joined with its rest on its own, so no chunk is copied whole.
 */
async function* runsOf(
  chunks: AsyncIterable<Uint8Array>,
  base: number,
  end: number,
  skipFirst: boolean,
): AsyncGenerator<Buffer> {
  // Bytes of an unfinished line; kept as parts so a record longer than many chunks is copied once.
  let carry: Buffer[] = [];
  let pos = base; // absolute offset of the next byte to cut (the first of `carry`, if any)
  let skipping = skipFirst;
  let done = false;
  /** Cuts `buf`, which starts at `pos`, into its run of whole lines; keeps the partial last one. */
  function* cut(buf: Buffer): Generator<Buffer> {
    let from = 0;
    if (skipping) {
      const nl = buf.indexOf(NL);
      if (nl < 0) {
        pos += buf.length;
        return;
      }
      from = nl + 1;
      skipping = false;
    }
    // The first line starting at or past `end` belongs to the next split: stop before it.
    if (pos + from >= end) {
      done = true;
      return;
    }
    const lastNl = buf.lastIndexOf(NL);
    if (lastNl < from) {
      carry = [buf.subarray(from)];
      pos += from;
      return;
    }
    // Lines that start before `end` end at the first newline at or after `end - 1`.
    let stopAt = lastNl + 1;
    if (pos + lastNl + 1 >= end) {
      stopAt = buf.indexOf(NL, Math.max(from, end - 1 - pos)) + 1;
      done = true;
    }
    yield buf.subarray(from, stopAt - 1);
    if (stopAt < buf.length) carry = [buf.subarray(stopAt)];
    pos += stopAt;
  }
  for await (const chunk of chunks) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (carry.length > 0) {
      const nl = buf.indexOf(NL);
      if (nl < 0) {
        carry.push(buf);
        continue;
      }
      const line = Buffer.concat([...carry, buf.subarray(0, nl + 1)]);
      carry = [];
      yield* cut(line);
      if (done) return;
      buf = buf.subarray(nl + 1);
      // Nothing after the line: an empty carry would read as one more (empty) line at the end.
      if (buf.length === 0) continue;
    }
    yield* cut(buf);
    if (done) return;
  }
  if (!skipping && carry.length > 0 && pos < end) yield Buffer.concat(carry);
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.length > 0 && l.charCodeAt(l.length - 1) === CR) lines[i] = l.slice(0, -1);
  }
  return lines;
}
