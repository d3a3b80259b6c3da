import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { splitObject } from '../../src/driver/plan-splits.js';
import { readLines } from '../../src/mapper/read-lines.js';
import { LocalDirStore } from '../../src/store/local-dir-store.js';
import { tempDirs } from './temp.js';

/** Folders for storeWith, removed after each test (property tests make thousands). */
const freshDir = tempDirs('split');

/** Writes `bytes` as one object in a fresh local store. */
export function storeWith(name: string, bytes: Uint8Array | string, gzip = false): LocalDirStore {
  const dir = freshDir().path;
  writeFileSync(join(dir, name), gzip ? gzipSync(bytes) : bytes);
  return new LocalDirStore(dir);
}

/** Every line the splits of an object yield, in split order, as the mapper would see them. */
export async function linesViaSplits(
  store: LocalDirStore,
  key: string,
  splitSize: number,
): Promise<string[]> {
  const info = await store.head(key);
  if (!info) throw new Error(`no object ${key}`);
  const out: string[] = [];
  for (const split of splitObject({ store: store.url, key, size: info.size }, splitSize)) {
    for await (const batch of readLines(store, split)) out.push(...batch);
  }
  return out;
}

/** The oracle: the lines of the whole text, read at once. */
export function linesOfWhole(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}
