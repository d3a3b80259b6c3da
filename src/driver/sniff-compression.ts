import pLimit from 'p-limit';
import { compressionByMagic, compressionByName, SNIFF_BYTES } from '../job/input-compression.js';
import type { ObjectStore } from '../store/object-store.js';
import { openStore } from '../store/open-store.js';
import type { InputObject } from './list-inputs.js';

/** Ranged reads in flight at once while planning: S3 answers each in tens of milliseconds. */
const SNIFFS_IN_FLIGHT = 64;

/**
 * The input objects, each that planning would cut into byte ranges marked with the compression its
 * first bytes show, so that it stays one split instead. Only objects larger than a split whose name
 * says no compression are read (one ranged GET of SNIFF_BYTES bytes each on S3): a smaller object is
 * one split anyway, and the map task reading it looks at its first bytes as it opens it, without a
 * request of its own. A folder of many small files thus costs planning nothing.
 * @throws {InputChangedError} when an object read is no longer the one listed.
 */
export async function sniffCompression(
  objects: readonly InputObject[],
  splitSize: number,
): Promise<InputObject[]> {
  const stores = new Map<string, ObjectStore>();
  const storeOf = (url: string): ObjectStore => {
    const known = stores.get(url);
    if (known) return known;
    const opened = openStore(url);
    stores.set(url, opened);
    return opened;
  };
  const limit = pLimit(SNIFFS_IN_FLIGHT);
  return Promise.all(
    objects.map((o) => {
      if (o.size <= splitSize || compressionByName(o.key) !== undefined) return o;
      return limit(async () => {
        const expected = o.etag === undefined ? { size: o.size } : { size: o.size, etag: o.etag };
        const head = await storeOf(o.store).get(
          o.key,
          { start: 0, end: Math.min(SNIFF_BYTES, o.size) },
          expected,
        );
        const compression = compressionByMagic(head);
        return compression === undefined ? o : { ...o, compression };
      });
    }),
  );
}
