import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import picomatch from 'picomatch';
import { openStore, toStoreUrl } from '../backends/open-store.js';
import { UsageError } from '../errors.js';

/** One input object, addressed by its store's URL and a key inside it. */
export interface InputObject {
  store: string;
  key: string;
  size: number;
}

/** Hidden and `_`-prefixed names (`_SUCCESS`, `.DS_Store`) are bookkeeping, never data, as in Hadoop. */
const isDataName = (key: string): boolean =>
  !key.split('/').some((p) => p.startsWith('.') || p.startsWith('_'));

/**
 * Expands input locations (files, folders, globs) into objects, in a stable order, each once.
 * @throws {UsageError} when a location matches nothing that exists.
 */
export async function listInputs(locations: readonly string[]): Promise<InputObject[]> {
  const seen = new Set<string>();
  const out: InputObject[] = [];
  for (const location of locations) {
    const found = await listOne(location);
    for (const o of found) {
      const id = `${o.store}\u0000${o.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(o);
    }
  }
  return out;
}

async function listOne(location: string): Promise<InputObject[]> {
  const scan = picomatch.scan(location);
  if (scan.isGlob) {
    const base = scan.base === '' ? '.' : scan.base;
    const store = openStore(toStoreUrl(resolve(base)));
    const isMatch = picomatch(scan.glob, { dot: false });
    const found: InputObject[] = [];
    for await (const o of store.list('')) {
      if (isMatch(o.key) && isDataName(o.key)) found.push({ store: store.url, key: o.key, size: o.size });
    }
    if (found.length === 0) throw new UsageError(`input glob matches no files: ${location}`);
    return found;
  }
  const abs = resolve(location);
  const info = await stat(abs).catch(() => undefined);
  if (!info) throw new UsageError(`input not found: ${location}`);
  if (info.isFile()) {
    return [{ store: toStoreUrl(dirname(abs)), key: basename(abs), size: info.size }];
  }
  const store = openStore(toStoreUrl(abs));
  const found: InputObject[] = [];
  for await (const o of store.list('')) {
    if (isDataName(o.key)) found.push({ store: store.url, key: o.key, size: o.size });
  }
  return found;
}
