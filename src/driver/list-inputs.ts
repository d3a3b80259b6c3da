import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import picomatch from 'picomatch';
import { UsageError } from '../errors.js';
import type { Compression } from '../job/input-compression.js';
import { OUTPUT_MARKER, SUCCESS_MARKER, TEMPORARY_DIR } from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import { isUrl, openStore, toStoreUrl } from '../store/open-store.js';

/** One input object, addressed by its store's URL and a key inside it. */
export interface InputObject {
  store: string;
  key: string;
  size: number;
  /** The object's version as listed (ObjectInfo.etag): readers check it is still the one there. */
  etag?: string;
  /** How the object is compressed, where planning read its first bytes (see sniffCompression). */
  compression?: Compression;
  /** A compressed object's uncompressed size, estimated where planning read it (see estimateSizes). */
  uncompressedSize?: number;
}

export interface ListOptions {
  /** Keep `_SUCCESS`, dotfiles and the like, as a copy should; also reads incomplete outputs. @default false */
  all?: boolean;
  /**
   * Locations (folders or prefixes) whose objects are never input: a run's own output folder and the
   * engine's folders in its work store, which may well sit inside an input folder.
   */
  exclude?: readonly string[];
  /** Read folders a Fanout job wrote but did not finish (no `_SUCCESS`). @default false */
  allowIncomplete?: boolean;
}

/** Hidden and `_`-prefixed names (`_SUCCESS`, `.DS_Store`) are bookkeeping, never data, as in Hadoop. */
const isDataName = (key: string): boolean =>
  !key.split('/').some((p) => p.startsWith('.') || p.startsWith('_'));

/**
 * Expands input locations into objects, in a stable order, each once (by resolved path, or bucket
 * and key), however the locations overlap. A location is a local path or a URL such as
 * `s3://bucket/prefix`; either may name one object, a folder (read recursively), or a glob
 * (`logs/**\/*.gz`, `s3://bucket/2024-*\/*.csv`).
 * @throws {UsageError} when a location matches nothing that exists, only excluded objects, or a
 *   folder that a Fanout job began to write and did not finish.
 */
export async function listInputs(
  locations: readonly string[],
  options: ListOptions = {},
): Promise<InputObject[]> {
  const all = options.all ?? false;
  const checkComplete = !all && !(options.allowIncomplete ?? false);
  const excluded = await Promise.all((options.exclude ?? []).map(asPrefix));
  const seen = new Set<string>();
  const out: InputObject[] = [];
  for (const location of locations) {
    const found = await listOne(location, all, checkComplete);
    let kept = 0;
    for (const o of found) {
      const id = await identityOf(o);
      if (excluded.some((prefix) => id.startsWith(prefix))) continue;
      kept++;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(o);
    }
    if (found.length > 0 && kept === 0) {
      throw new UsageError(`input ${location} holds only this run's own output or work files`);
    }
  }
  return out;
}

/**
 * One name per object, however it was reached: the real path of a local file (through symbolic
 * links and overlapping folders), the store URL and key otherwise.
 */
async function identityOf(o: InputObject): Promise<string> {
  if (!o.store.startsWith('file:')) return `${o.store.replace(/\/$/, '')}/${o.key}`;
  const path = join(fileURLToPath(o.store), ...o.key.split('/'));
  return realpath(path).catch(() => path);
}

/** An excluded location as a prefix of identities, ending in a separator. */
async function asPrefix(location: string): Promise<string> {
  if (isUrl(location) && !location.startsWith('file:'))
    return location.endsWith('/') ? location : `${location}/`;
  const abs = location.startsWith('file:') ? fileURLToPath(location) : resolve(location);
  const real = await realpath(abs).catch(() => abs);
  return real.endsWith(sep) ? real : `${real}${sep}`;
}

async function listOne(location: string, all: boolean, checkComplete: boolean): Promise<InputObject[]> {
  const { store, path } = isUrl(location) ? await splitUrl(location) : await splitLocal(location);
  const scan = picomatch.scan(path);
  if (scan.isGlob) {
    const isMatch = picomatch(path, { dot: false });
    const found = await collect(store, scan.base === '' ? '' : `${scan.base}/`, isMatch, all, checkComplete);
    if (found.length === 0) throw new UsageError(`input glob matches no files: ${location}`);
    return found;
  }
  if (path !== '' && !path.endsWith('/')) {
    const one = await store.head(path);
    if (one) {
      if (checkComplete) await requireCompleteFolder(store, folderOf(path));
      return [{ store: store.url, key: path, size: one.size, ...(one.etag && { etag: one.etag }) }];
    }
  }
  const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
  const found = await collect(store, prefix, () => true, all, checkComplete);
  if (found.length === 0 && !(await existsAsFolder(location)))
    throw new UsageError(`input not found: ${location}`);
  return found;
}

async function collect(
  store: ObjectStore,
  prefix: string,
  isMatch: (key: string) => boolean,
  all: boolean,
  checkComplete: boolean,
): Promise<InputObject[]> {
  const found: InputObject[] = [];
  // Folders a Fanout job wrote into (its marker, or attempts' `_temporary/`), and those it finished.
  const written = new Set<string>();
  const finished = new Set<string>();
  for await (const o of store.list(prefix)) {
    if (checkComplete) {
      const parts = o.key.split('/');
      const temporary = parts.indexOf(TEMPORARY_DIR);
      if (temporary >= 0) written.add(parts.slice(0, temporary).join('/'));
      const name = parts[parts.length - 1];
      if (name === OUTPUT_MARKER) written.add(folderOf(o.key));
      if (name === SUCCESS_MARKER) finished.add(folderOf(o.key));
    }
    if ((all || isDataName(o.key.slice(prefix.length))) && isMatch(o.key))
      found.push({ store: store.url, key: o.key, size: o.size, ...(o.etag && { etag: o.etag }) });
  }
  for (const o of found) {
    const folder = folderOf(o.key);
    if (written.has(folder) && !finished.has(folder)) throw incompleteOutput(store, folder);
  }
  return found;
}

/** The folder part of a key: `a/b` for `a/b/c`, `''` at the root. */
const folderOf = (key: string): string => key.slice(0, Math.max(0, key.lastIndexOf('/')));

/**
 * A file named on its own is checked against its folder's markers: a part file of an output whose
 * job died during its final moves must not be read as if the output were whole.
 */
async function requireCompleteFolder(store: ObjectStore, folder: string): Promise<void> {
  const prefix = folder === '' ? '' : `${folder}/`;
  if (await store.head(`${prefix}${SUCCESS_MARKER}`)) return;
  let written = (await store.head(`${prefix}${OUTPUT_MARKER}`)) !== undefined;
  if (!written) {
    for await (const _ of store.list(`${prefix}${TEMPORARY_DIR}/`)) {
      written = true;
      break;
    }
  }
  if (written) throw incompleteOutput(store, folder);
}

function incompleteOutput(store: ObjectStore, folder: string): UsageError {
  const where = store.url.startsWith('file:')
    ? join(fileURLToPath(store.url), ...folder.split('/'))
    : `${store.url.replace(/\/$/, '')}/${folder}`;
  return new UsageError(
    `input ${where} is the output of a Fanout job that did not finish (no ${SUCCESS_MARKER}); pass --allow-incomplete to read it anyway`,
  );
}

/**
 * A URL is read through the store rooted where a local location's would be: at the object's folder
 * (an object), at itself (a folder), or at the static part of a glob, so every object's key is its
 * path below the input given, as `ctx.input.key` shows it, on S3 as on disk.
 */
async function splitUrl(location: string): Promise<{ store: ObjectStore; path: string }> {
  const url = new URL(location);
  const bucket = `${url.protocol}//${url.host}`;
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const rooted = (folder: string, rest: string) => ({
    store: openStore(
      folder === '' ? bucket : `${bucket}/${folder.split('/').map(encodeURIComponent).join('/')}`,
    ),
    path: rest,
  });
  const scan = picomatch.scan(path);
  if (scan.isGlob) return rooted(scan.base, scan.glob);
  if (path === '' || path.endsWith('/')) return rooted(path.replace(/\/$/, ''), '');
  if (await openStore(bucket).head(path))
    return rooted(folderOf(path), path.slice(path.lastIndexOf('/') + 1));
  return rooted(path, '');
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
