import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';
import { LazyStore } from './lazy-store.js';
import { LocalDirStore } from './local-dir-store.js';
import type { ObjectStore } from './object-store.js';

type StoreFactory = (url: URL) => ObjectStore;

/** Whether local stores opened in this thread block it on their file-system calls (see fs-calls.ts). */
let blockingLocalIo = false;

/**
 * Local stores this thread opens from now on make their file-system calls blocking it rather than
 * through libuv's thread pool: for a thread that only runs tasks, one at a time (a local worker),
 * where a dozen calls per small task each cost more in hand-offs than in the call. Stores already
 * handed out keep the thread pool.
 */
export function useBlockingLocalIo(): void {
  blockingLocalIo = true;
  for (const href of cache.keys()) if (href.startsWith('file:')) cache.delete(href);
}

/** Store implementations by URL scheme: a new kind of store is one more entry, not a branch in callers. */
const factories = new Map<string, StoreFactory>([
  ['file:', (url) => new LocalDirStore(fileURLToPath(url), { blocking: blockingLocalIo })],
  [
    's3:',
    (url) => new LazyStore(url.href, async () => new (await import('./s3-store.js')).S3Store(url.href)),
  ],
]);

/**
 * Adds a kind of store by URL scheme (`sim:`), for a module above this layer that brings its own:
 * locations of that scheme then open through openStore as any other.
 */
export function registerStoreScheme(protocol: string, factory: StoreFactory): void {
  factories.set(protocol, factory);
}

/** Whether a location is a URL (`s3://bucket/key`, `file:///dir`) rather than a local path. */
export const isUrl = (location: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(location);

/** Turns a local path or URL into a store URL (`file:///abs/dir`, `s3://bucket/prefix`). */
export function toStoreUrl(location: string): string {
  if (isUrl(location)) return location;
  const abs = isAbsolute(location) ? location : resolve(location);
  return pathToFileURL(abs).href;
}

const cache = new Map<string, ObjectStore>();

/** Opens (and caches) the store rooted at a URL or local path. */
export function openStore(location: string): ObjectStore {
  const href = toStoreUrl(location);
  let store = cache.get(href);
  if (!store) {
    const url = new URL(href);
    const factory = factories.get(url.protocol);
    if (!factory) throw new UsageError(`unsupported location scheme ${url.protocol} in ${location}`);
    store = factory(url);
    cache.set(href, store);
  }
  return store;
}
