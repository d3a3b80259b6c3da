import { randomBytes } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inputChanged } from '../errors.js';
import { contentVersion, lockPathOf, withFileLock } from './conditional-put.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  ObjectWriter,
  PutCondition,
  PutIfResult,
  ReadExpectation,
  VersionedObject,
} from './object-store.js';

const STREAM_CHUNK = 1 << 20;

/**
 * An ObjectStore over a local directory. Writes go to a hidden temporary file and are renamed into
 * place, so a reader never sees half an object, as with S3. Conditional writes (`putIf`) hold a
 * per-key lock file across processes and version objects by content hash: see conditional-put.ts.
 */
export class LocalDirStore implements ObjectStore {
  readonly url: string;
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    this.url = pathToFileURL(root).href;
  }

  /** Absolute path of a key. */
  pathOf(key: string): string {
    if (key.includes('..') && key.split('/').includes('..')) throw new Error(`key escapes the store: ${key}`);
    return join(this.root, ...key.split('/'));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // A prefix is a string prefix of keys, as in S3; walk from the deepest directory it names.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    const found: ObjectInfo[] = [];
    await this.#walk(dirKey === '' ? this.root : this.pathOf(dirKey), prefix, found);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async #walk(dir: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const e of entries) {
      if (e.name.startsWith('.fanout-tmp-')) continue;
      const abs = join(dir, e.name);
      const key = relative(this.root, abs).split(sep).join('/');
      // Symbolic links are followed, as a shell glob would.
      const info = e.isSymbolicLink() ? await stat(abs).catch(() => undefined) : e;
      if (info?.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await this.#walk(abs, prefix, out);
      } else if (info?.isFile() && key.startsWith(prefix)) {
        out.push(infoOf(key, await stat(abs, { bigint: true })));
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(this.pathOf(key), { bigint: true });
      return s.isFile() ? infoOf(key, s) : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange, expected?: ReadExpectation): Promise<Uint8Array> {
    const fh = await this.#open(key, expected);
    try {
      const start = range?.start ?? 0;
      const end = range?.end ?? (await fh.stat()).size;
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === buf.length ? buf : buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  async *stream(key: string, range?: ByteRange, expected?: ReadExpectation): AsyncIterable<Uint8Array> {
    if (range && range.end <= range.start) return;
    const fh = await this.#open(key, expected);
    const s = fh.createReadStream({
      highWaterMark: STREAM_CHUNK,
      ...(range ? { start: range.start, end: range.end - 1 } : {}),
    });
    try {
      for await (const chunk of s) yield chunk as Buffer;
    } finally {
      s.destroy();
    }
  }

  /**
   * Opens a key for reading, checked against `expected` by fstat: the file read is the one open,
   * whatever is renamed over its path afterwards.
   */
  async #open(key: string, expected: ReadExpectation | undefined): Promise<FileHandle> {
    const path = this.pathOf(key);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      // ENOTDIR: a folder on the path has become a file since the listing.
      if (expected && (isNotFound(err) || codeOf(err) === 'ENOTDIR')) {
        throw inputChanged(path, expected.size, 'gone');
      }
      throw err;
    }
    if (!expected) return fh;
    try {
      const s = await fh.stat({ bigint: true });
      const size = Number(s.size);
      if (size !== expected.size || (expected.etag !== undefined && etagOf(s) !== expected.etag)) {
        throw inputChanged(path, expected.size, size);
      }
      return fh;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const w = await this.openWriter(key);
    try {
      await w.write(typeof body === 'string' ? Buffer.from(body) : body);
      await w.close();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  async openWriter(key: string): Promise<ObjectWriter> {
    const dest = this.pathOf(key);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = join(dirname(dest), `.fanout-tmp-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'w');
    let done = false;
    return {
      async write(chunk) {
        let off = 0;
        while (off < chunk.byteLength)
          off += (await fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
      },
      async close() {
        if (done) return;
        done = true;
        await fh.close();
        await rename(tmp, dest);
      },
      async abort() {
        if (done) return;
        done = true;
        await fh.close().catch(() => {});
        await rm(tmp, { force: true });
      },
    };
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    // One read: the rename that publishes every write means the bytes are one whole version,
    // so the hash of what was read is the version of what was read.
    const body = await readIfExists(this.pathOf(key));
    return body === undefined ? undefined : { body, version: contentVersion(body) };
  }

  async putIf(key: string, body: Uint8Array | string, condition: PutCondition): Promise<PutIfResult> {
    const dest = this.pathOf(key);
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await mkdir(dirname(dest), { recursive: true });
    // Every conditional writer of this key holds the lock from the check to the rename, so no
    // other conditional write can land between them.
    return withFileLock(lockPathOf(dest), async () => {
      const current = await readIfExists(dest);
      const holds =
        'ifAbsent' in condition
          ? current === undefined
          : current !== undefined && contentVersion(current) === condition.ifVersion;
      if (!holds) return { ok: false };
      await this.put(key, bytes);
      return { ok: true, version: contentVersion(bytes) };
    });
  }

  async rename(from: string, to: string): Promise<void> {
    const dest = this.pathOf(to);
    await mkdir(dirname(dest), { recursive: true });
    await rename(this.pathOf(from), dest);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix === '' || prefix.endsWith('/')) {
      await rm(prefix === '' ? this.root : this.pathOf(prefix.slice(0, -1)), {
        recursive: true,
        force: true,
      });
      return;
    }
    for await (const o of this.list(prefix)) await this.delete(o.key);
  }
}

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * A file's version: writes and truncation move its modification time (nanoseconds where the file
 * system keeps them) and a file renamed over the path has another inode, so the etag changes.
 */
function etagOf(s: BigIntStats): string {
  return `${s.ino}-${s.size}-${s.mtimeNs}`;
}

function infoOf(key: string, s: BigIntStats): ObjectInfo {
  return { key, size: Number(s.size), etag: etagOf(s) };
}

function isNotFound(err: unknown): boolean {
  return codeOf(err) === 'ENOENT';
}

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}
