import pLimit from 'p-limit';
import { compressionByName } from '../job/input-compression.js';
import { openStore } from '../store/open-store.js';
import type { InputObject } from './list-inputs.js';

/**
 * How many times its size a compressed object is taken to hold when its uncompressed size is not
 * read (Brotli, which records none, and gzip objects too small to be worth a request): about what
 * gzip makes of text.
 */
export const ASSUMED_RATIO = 4;

/** A gzip object smaller than this share of a split is weighed by ASSUMED_RATIO, without a request. */
const READ_AT_LEAST = 1 / 64;

/** Ranged reads in flight at once while planning, as for sniffCompression. */
const READS_IN_FLIGHT = 16;

/** Bytes of gzip's trailer that hold ISIZE. */
const ISIZE_BYTES = 4;

/**
 * The uncompressed size a gzip stream's last 4 bytes record (ISIZE, RFC 1952): the size of its last
 * member, modulo 2^32. For a file of one member under 4 GiB uncompressed, that is its size.
 */
export function gzipIsize(trailer: Uint8Array): number {
  if (trailer.length < ISIZE_BYTES) return 0;
  return Buffer.from(trailer.buffer, trailer.byteOffset, trailer.byteLength).readUInt32LE(
    trailer.byteLength - ISIZE_BYTES,
  );
}

/**
 * The input objects, each gzip object (by its name, or by the first bytes sniffCompression read) of
 * at least 1/64 of a split marked with the uncompressed size its trailer records, read with one
 * ranged request of 4 bytes (cheap on S3 too). Planning packs a compressed object by that size (see
 * planMapInputs), so four 10 MB gzip files of 40 MB of text become several tasks for several cores,
 * not one task of "40 MB".
 *
 * The estimate is never below the object's own size. ISIZE is the last member's size: a file of
 * several members (concatenated gzip files, bgzip) is underestimated, and packed as densely as its
 * compressed size alone would pack it at worst. It is also modulo 2^32, so a file of more than 4 GiB
 * of text from under a split of gzip would pass for less; such ratios (over 64) are rare.
 * @throws {InputChangedError} when an object read is no longer the one listed.
 */
export async function estimateSizes(
  objects: readonly InputObject[],
  splitSize: number,
): Promise<InputObject[]> {
  const limit = pLimit(READS_IN_FLIGHT);
  return Promise.all(
    objects.map((o) => {
      const compression = o.compression ?? compressionByName(o.key);
      if (compression !== 'gzip' || o.size < Math.max(ISIZE_BYTES, splitSize * READ_AT_LEAST)) return o;
      return limit(async () => {
        const expected = o.etag === undefined ? { size: o.size } : { size: o.size, etag: o.etag };
        const trailer = await openStore(o.store).get(
          o.key,
          { start: o.size - ISIZE_BYTES, end: o.size },
          expected,
        );
        return { ...o, uncompressedSize: Math.max(o.size, gzipIsize(trailer)) };
      });
    }),
  );
}
