import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import picomatch from 'picomatch';
import type { ObjectStore } from '../backends/object-store.js';
import { isUrl, openStore, toStoreUrl } from '../backends/open-store.js';
import { UsageError } from '../errors.js';

/** One input object, addressed by its store's URL and a key inside it. */
export interface InputObject {
  store: string;
  key: string;
  size: number;
  /** The object's version as listed (ObjectInfo.etag): readers check it is still the one there. */
  etag?: string;
}

/** Hidden and `_`-prefixed names (`_SUCCESS`, `.DS_Store`) are bookkeeping, never data, as in Hadoop. */
const isDataName = (key: string): boolean =>
  !key.split('/').some((p) => p.startsWith('.') || p.startsWith('_'));

/**
 * Expands input locations into objects, in a stable order, each once. A location is a local path or
 * a URL such as `s3://bucket/prefix`; either may name one object, a folder (read recursively), or a
 * glob (`logs/**\/*.gz`, `s3://bucket/2024-*\/*.csv`).
 * @throws {UsageError} when a location matches nothing that exists.
 */
export async function listInputs(
  locations: readonly string[],
  options: {
    /** Keep `_SUCCESS`, dotfiles and the like, as a copy should. @default false */ all?: boolean;
  } = {},
): Promise<InputObject[]> {
  const seen = new Set<string>();
  const out: InputObject[] = [];
  for (const location of locations) {
    for (const o of await listOne(location, options.all ?? false)) {
      const id = `${o.store}\u0000${o.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(o);
    }
  }
  return out;
}

async function listOne(location: string, all: boolean): Promise<InputObject[]> {
  const { store, path } = isUrl(location) ? splitUrl(location) : await splitLocal(location);
  const scan = picomatch.scan(path);
  if (scan.isGlob) {
    const isMatch = picomatch(path, { dot: false });
    const found = await collect(store, scan.base === '' ? '' : `${scan.base}/`, isMatch, all);
    if (found.length === 0) throw new UsageError(`input glob matches no files: ${location}`);
    return found;
  }
  if (path !== '' && !path.endsWith('/')) {
    const one = await store.head(path);
    if (one) return [{ store: store.url, key: path, size: one.size, ...(one.etag && { etag: one.etag }) }];
  }
  const found = await collect(store, path === '' || path.endsWith('/') ? path : `${path}/`, () => true, all);
  if (found.length === 0 && !(await existsAsFolder(location)))
    throw new UsageError(`input not found: ${location}`);
  return found;
}

async function collect(
  store: ObjectStore,
  prefix: string,
  isMatch: (key: string) => boolean,
  all: boolean,
): Promise<InputObject[]> {
  const found: InputObject[] = [];
  for await (const o of store.list(prefix)) {
    if ((all || isDataName(o.key.slice(prefix.length))) && isMatch(o.key))
      found.push({ store: store.url, key: o.key, size: o.size, ...(o.etag && { etag: o.etag }) });
  }
  return found;
}

/** `s3://bucket/a/b` is the store `s3://bucket` and the path `a/b`. */
function splitUrl(location: string): { store: ObjectStore; path: string } {
  const url = new URL(location);
  return {
    store: openStore(`${url.protocol}//${url.host}`),
    path: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
}

/**
 * A local location is read through the store rooted at its directory (a file), at itself (a folder),
 * or at the static part of a glob, so local inputs take the same path through the engine as S3 ones.
 */
async function splitLocal(location: string): Promise<{ store: ObjectStore; path: string }> {
  const scan = picomatch.scan(location);
  if (scan.isGlob) {
    const root = resolve(scan.base === '' ? '.' : scan.base);
    return { store: openStore(toStoreUrl(root)), path: scan.glob };
  }
  const abs = resolve(location);
  const info = await stat(abs).catch(() => undefined);
  if (!info) throw new UsageError(`input not found: ${location}`);
  if (info.isFile()) return { store: openStore(toStoreUrl(dirname(abs))), path: basename(abs) };
  return { store: openStore(toStoreUrl(abs)), path: '' };
}

/** An empty folder is valid input (no records); a missing one is a mistake. */
async function existsAsFolder(location: string): Promise<boolean> {
  if (isUrl(location)) return false;
  return (await stat(resolve(location)).catch(() => undefined))?.isDirectory() ?? false;
}
