import { stat } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import picomatch from 'picomatch';
import { type InputObject, listInputs } from '../driver/list-inputs.js';
import { FanoutError, UsageError } from '../errors.js';
import { isUrl, openStore } from '../store/open-store.js';
import { formatBytes } from './parse-size.js';

/** Flags of `mr cp`. */
export interface CpFlags {
  quiet?: boolean;
}

/** One object to copy: from a store and key to a store and key. */
export interface CopyItem {
  from: InputObject;
  to: { store: string; key: string };
}

/** What `mr cp` copied. */
export interface CopySummary {
  files: number;
  bytes: number;
  wallMs: number;
}

/** Copies at once: enough to hide per-request latency to S3 without flooding a laptop's uplink. */
const COPY_CONCURRENCY = 8;

/**
 * Splits `mr cp` arguments into sources and the destination (the last one).
 * @throws {UsageError} when fewer than two are given or one is empty.
 */
export function parseCpArgs(paths: readonly string[]): { sources: string[]; dest: string } {
  if (paths.some((p) => p.trim() === '')) throw new UsageError('cp: an empty path was given');
  const dest = paths.at(-1);
  if (paths.length < 2 || dest === undefined) {
    throw new UsageError(
      `cp needs at least one source and a destination, got ${paths.length === 0 ? 'none' : JSON.stringify(paths[0])}`,
    );
  }
  return { sources: paths.slice(0, -1), dest };
}

/**
 * Plans a copy. Sources are expanded as job inputs are (files, folders read recursively, globs, local
 * or `s3://`; unlike job inputs, `_SUCCESS` and dotfiles are copied too), and each object keeps its path below the
 * source: a folder's contents, a glob's static base or a file's own folder. The destination is a
 * folder when it ends with `/`, is a bucket root or an existing local folder, or when more than one
 * object or a folder or glob is copied; otherwise it names the one object copied.
 * @throws {UsageError} when a source matches nothing or an object would be copied onto itself.
 */
export async function planCopy(sources: readonly string[], dest: string): Promise<CopyItem[]> {
  const found: { object: InputObject; path: string; single: boolean }[] = [];
  for (const source of sources) {
    const objects = await listInputs([source], { all: true });
    const single = await isSingleObject(source, objects);
    for (const object of objects) found.push({ object, path: object.key, single });
  }
  const first = found[0];
  const toOneObject = found.length === 1 && first?.single === true && !(await isFolder(dest));
  const { store: destStore, key: destKey } = toOneObject ? splitLast(dest) : { store: dest, key: '' };
  const to = openStore(destStore).url;
  const items: CopyItem[] = [];
  const targets = new Set<string>();
  for (const { object, path } of found) {
    const key = toOneObject ? destKey : path;
    const target = joinUrl(to, key);
    if (target === joinUrl(object.store, object.key)) {
      throw new UsageError(`cp: ${display(target)} would be copied onto itself`);
    }
    // Two sources with the same relative path would race for one destination object.
    if (targets.has(target))
      throw new UsageError(`cp: two sources would both be copied to ${display(target)}`);
    targets.add(target);
    items.push({ from: object, to: { store: to, key } });
  }
  return items;
}

/**
 * `mr cp <src...> <dest>`: copies local files and `s3://` objects in any direction, streaming each
 * object (no file is held in memory whole), eight at a time, one line per file unless `--quiet`.
 * On the first failure no new copies start; the ones running finish, then the error is thrown.
 * @throws {UsageError} on bad arguments.
 * @throws {FanoutError} naming the file that could not be copied.
 */
export async function cpCommand(
  paths: readonly string[],
  flags: CpFlags = {},
  out: { write(text: string): unknown } = process.stdout,
): Promise<CopySummary> {
  const started = performance.now();
  const { sources, dest } = parseCpArgs(paths);
  const items = await planCopy(sources, dest);
  const limit = pLimit(COPY_CONCURRENCY);
  let failure: { err: unknown; item: CopyItem } | undefined;
  let files = 0;
  let bytes = 0;
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (failure) return;
        try {
          await copyObject(item);
        } catch (err) {
          // Queued copies see this and return at once (p-limit's clearQueue would leave them pending).
          failure ??= { err, item };
          return;
        }
        files++;
        bytes += item.from.size;
        if (!flags.quiet)
          out.write(
            `${display(joinUrl(item.from.store, item.from.key))} -> ${display(joinUrl(item.to.store, item.to.key))}\n`,
          );
      }),
    ),
  );
  if (failure) {
    const { err, item } = failure;
    if (err instanceof UsageError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new FanoutError(
      `cannot copy ${display(joinUrl(item.from.store, item.from.key))} (${files} of ${items.length} files copied): ${message}`,
      { cause: err },
    );
  }
  const wallMs = performance.now() - started;
  if (!flags.quiet) {
    out.write(
      `copied ${files} file${files === 1 ? '' : 's'}, ${formatBytes(bytes)} in ${(wallMs / 1000).toFixed(2)} s\n`,
    );
  }
  return { files, bytes, wallMs };
}

/** Streams one object; the destination appears whole on success and not at all on failure. */
async function copyObject({ from, to }: CopyItem): Promise<void> {
  const writer = await openStore(to.store).openWriter(to.key);
  try {
    for await (const chunk of openStore(from.store).stream(from.key)) await writer.write(chunk);
    await writer.close();
  } catch (err) {
    // The copy's own error is the one worth reporting; a failed abort only leaves a temporary upload.
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * Whether the source is one object. listInputs roots every source's store at the folder, the glob's
 * base or the file's own folder, so listed keys are already paths below the source.
 */
async function isSingleObject(source: string, objects: InputObject[]): Promise<boolean> {
  if (!isUrl(source)) {
    if (picomatch.scan(source).isGlob) return false;
    return (await stat(resolve(source)).catch(() => undefined))?.isFile() ?? false;
  }
  const url = new URL(source);
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (picomatch.scan(path).isGlob || path === '' || path.endsWith('/')) return false;
  const only = objects.length === 1 ? objects[0] : undefined;
  // A folder holding one object of its own name lists that object too: compare whole locations.
  return (
    only !== undefined &&
    decodeURIComponent(joinUrl(only.store, only.key)) === `${url.protocol}//${url.host}/${path}`
  );
}

async function isFolder(dest: string): Promise<boolean> {
  if (dest.endsWith('/')) return true;
  if (isUrl(dest)) return new URL(dest).pathname.replace(/^\/+/, '') === '';
  return (await stat(resolve(dest)).catch(() => undefined))?.isDirectory() ?? false;
}

/** `s3://b/in/x.txt` is the folder `s3://b/in/` and the name `x.txt`; local paths likewise. */
function splitLast(location: string): { store: string; key: string } {
  if (!isUrl(location)) return { store: dirname(resolve(location)), key: basename(location) };
  const i = location.lastIndexOf('/');
  return { store: location.slice(0, i + 1), key: decodeURIComponent(location.slice(i + 1)) };
}

function joinUrl(store: string, key: string): string {
  return store.endsWith('/') ? `${store}${key}` : `${store}/${key}`;
}

/** Local files as paths (relative when under the working folder), other objects as URLs. */
function display(url: string): string {
  if (!url.startsWith('file:')) return url;
  const path = fileURLToPath(url);
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
