import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import type { PartitionSlice } from '../protocol/task-types.js';
import type { ObjectStore, ObjectWriter } from '../store/object-store.js';

const MAGIC = 0x4853_4f46; // 'FOSH' little-endian
const FOOTER_BYTES = 12;
/**
 * Appended bytes are held until this many are, then written as one chunk: a small map task's
 * partitions, index and footer go out in one write instead of one each.
 */
const WRITE_CHUNK = 1 << 20;

/**
 * Writes one shuffle object: partition 0's records, then 1's, ... then an index of
 * `(offset, length, records, crc)` per partition and a footer, so the object describes itself.
 * The driver also keeps the index in the job manifest, so reducers range-read without a lookup.
 */
export class ShuffleObjectWriter {
  readonly #out: ObjectWriter;
  readonly #slices: PartitionSlice[];
  #pos = 0;
  #current = -1;
  /** Appended bytes not yet written, and how many. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;

  constructor(out: ObjectWriter, partitions: number) {
    this.#out = out;
    this.#slices = Array.from({ length: partitions }, () => ({ offset: 0, length: 0, records: 0, crc: 0 }));
  }

  /** Appends bytes of `partition`; partitions must be written in ascending order. */
  async append(partition: number, bytes: Uint8Array, records: number): Promise<void> {
    if (partition < this.#current) throw new Error('shuffle partitions must be written in order');
    const slice = this.#slices[partition];
    if (!slice) throw new Error(`partition ${partition} out of range`);
    if (partition !== this.#current) {
      this.#current = partition;
      slice.offset = this.#pos;
    }
    if (bytes.byteLength === 0) return;
    slice.crc = crc32(bytes, slice.crc);
    slice.length += bytes.byteLength;
    slice.records += records;
    this.#pos += bytes.byteLength;
    this.#held.push(bytes);
    this.#heldBytes += bytes.byteLength;
    if (this.#heldBytes >= WRITE_CHUNK) await this.#flush();
  }

  /** Writes the held bytes as one chunk (the one held, uncopied, when there is only one). */
  async #flush(): Promise<void> {
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    this.#heldBytes = 0;
    await this.#out.write(held.length === 1 ? (held[0] as Uint8Array) : Buffer.concat(held));
  }

  /** Drops the object: nothing is published. */
  async abort(): Promise<void> {
    await this.#out.abort();
  }

  /** Writes the index and footer and publishes the object. Returns the index. */
  async close(): Promise<{ slices: PartitionSlice[]; bytes: number }> {
    // Partitions never appended still need a valid, empty slice at the current end.
    for (let p = this.#current + 1; p < this.#slices.length; p++) {
      const s = this.#slices[p];
      if (s) s.offset = this.#pos;
    }
    const index = Buffer.alloc(this.#slices.length * 32);
    this.#slices.forEach((s, i) => {
      index.writeDoubleLE(s.offset, i * 32);
      index.writeDoubleLE(s.length, i * 32 + 8);
      index.writeDoubleLE(s.records, i * 32 + 16);
      index.writeDoubleLE(s.crc, i * 32 + 24);
    });
    const footer = Buffer.alloc(FOOTER_BYTES);
    footer.writeUInt32LE(this.#slices.length, 0);
    footer.writeUInt32LE(crc32(index), 4);
    footer.writeUInt32LE(MAGIC, 8);
    this.#held.push(index, footer);
    await this.#flush();
    await this.#out.close();
    return { slices: this.#slices, bytes: this.#pos + index.length + FOOTER_BYTES };
  }
}

/**
 * Reads one partition's slice and verifies its checksum. A mismatch names the object: it will not
 * heal by reading it again, so it is not retryable, and the driver re-runs the map task that wrote it.
 */
export async function readSlice(store: ObjectStore, key: string, slice: PartitionSlice): Promise<Uint8Array> {
  if (slice.length === 0) return new Uint8Array(0);
  const bytes = await store.get(key, { start: slice.offset, end: slice.offset + slice.length });
  if (bytes.byteLength !== slice.length || crc32(bytes) !== slice.crc) {
    throw new CorruptDataError(
      `checksum mismatch in ${key} at [${slice.offset}, ${slice.offset + slice.length})`,
      { retryable: false, context: { object: key } },
    );
  }
  return bytes;
}

/** Reads the index a shuffle object carries in its footer (for tools and recovery). */
export async function readShuffleIndex(store: ObjectStore, key: string): Promise<PartitionSlice[]> {
  const info = await store.head(key);
  if (!info || info.size < FOOTER_BYTES) throw new CorruptDataError(`not a shuffle object: ${key}`);
  const footer = Buffer.from(await store.get(key, { start: info.size - FOOTER_BYTES, end: info.size }));
  const n = footer.readUInt32LE(0);
  if (footer.readUInt32LE(8) !== MAGIC || n * 32 + FOOTER_BYTES > info.size) {
    throw new CorruptDataError(`bad shuffle footer in ${key}`);
  }
  const start = info.size - FOOTER_BYTES - n * 32;
  const index = Buffer.from(await store.get(key, { start, end: info.size - FOOTER_BYTES }));
  if (crc32(index) !== footer.readUInt32LE(4))
    throw new CorruptDataError(`bad shuffle index checksum in ${key}`);
  return Array.from({ length: n }, (_, i) => ({
    offset: index.readDoubleLE(i * 32),
    length: index.readDoubleLE(i * 32 + 8),
    records: index.readDoubleLE(i * 32 + 16),
    crc: index.readDoubleLE(i * 32 + 24),
  }));
}
