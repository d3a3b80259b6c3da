import { randomBytes } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inputChanged } from '../errors.js';
import { contentVersion, lockPathOf, withFileLock } from './conditional-put.js';
import { blockingFs, type FsCalls, threadPoolFs } from './fs-calls.js';
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
import { removeTree } from './remove-tree.js';

const STREAM_CHUNK = 1 << 20;

/** Names of this thread's temporary files: a random start, then a count (cheaper than random bytes each). */
const TMP_PREFIX = `.fanout-tmp-${randomBytes(6).toString('hex')}-`;
let tmpCount = 0;

export interface LocalDirStoreOptions {
  /**
   * Make reads, writes and metadata calls blocking the calling thread instead of through libuv's
   * thread pool (see fs-calls.ts): for a thread that only runs tasks. @default false
   */
  blocking?: boolean;
}

/**
 * An ObjectStore over a local directory. Writes go to a hidden temporary file and are renamed into
 * place, so a reader never sees half an object, as with S3. Conditional writes (`putIf`) hold a
 * per-key lock file across processes and version objects by content hash: see conditional-put.ts.
 */
export class LocalDirStore implements ObjectStore {
  readonly url: string;
  readonly root: string;
  readonly #fs: FsCalls;

  constructor(root: string, options: LocalDirStoreOptions = {}) {
    this.root = root;
    this.url = pathToFileURL(root).href;
    this.#fs = options.blocking ? blockingFs : threadPoolFs;
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
      const s = await this.#fs.stat(this.pathOf(key));
      return s.isFile() ? infoOf(key, s) : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange, expected?: ReadExpectation): Promise<Uint8Array> {
    const { fd, size } = await this.#open(key, expected, range === undefined);
    try {
      const start = range?.start ?? 0;
      const end = range?.end ?? (size as number);
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let off = 0;
      while (off < buf.length) {
        const n = await this.#fs.read(fd, buf, off, buf.length - off, start + off);
        if (n === 0) break;
        off += n;
      }
      return off === buf.length ? buf : buf.subarray(0, off);
    } finally {
      await this.#fs.close(fd);
    }
  }

  /** Reads in chunks of up to STREAM_CHUNK bytes straight from the descriptor, with no stream machinery. */
  async *stream(key: string, range?: ByteRange, expected?: ReadExpectation): AsyncIterable<Uint8Array> {
    if (range && range.end <= range.start) return;
    const { fd } = await this.#open(key, expected, false);
    try {
      let pos = range?.start ?? 0;
      const end = range?.end ?? Number.POSITIVE_INFINITY;
      while (pos < end) {
        const want = Math.min(STREAM_CHUNK, end - pos);
        const buf = Buffer.allocUnsafe(want);
        const n = await this.#fs.read(fd, buf, 0, want, pos);
        if (n === 0) return;
        pos += n;
        yield n === want ? buf : buf.subarray(0, n);
      }
    } finally {
      await this.#fs.close(fd);
    }
  }

  /**
   * Opens a key for reading, checked against `expected` by fstat: the file read is the one open,
   * whatever is renamed over its path afterwards. `size` is the file's, when checked or asked for.
   */
  async #open(
    key: string,
    expected: ReadExpectation | undefined,
    wantSize: boolean,
  ): Promise<{ fd: number; size?: number }> {
    const path = this.pathOf(key);
    let fd: number;
    try {
      fd = await this.#fs.open(path, 'r');
    } catch (err) {
      // ENOTDIR: a folder on the path has become a file since the listing.
      if (expected && (isNotFound(err) || codeOf(err) === 'ENOTDIR')) {
        throw inputChanged(path, expected.size, 'gone');
      }
      throw err;
    }
    if (!expected && !wantSize) return { fd };
    try {
      const s = await this.#fs.fstat(fd);
      const size = Number(s.size);
      if (
        expected &&
        (size !== expected.size || (expected.etag !== undefined && etagOf(s) !== expected.etag))
      ) {
        throw inputChanged(path, expected.size, size);
      }
      return { fd, size };
    } catch (err) {
      await this.#fs.close(fd).catch(() => {});
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

  /**
   * Writes to a temporary file beside the key and renames it into place on close. The folder is
   * made only when the temporary file cannot be opened for want of it: most writes go into a
   * folder that exists.
   */
  async openWriter(key: string): Promise<ObjectWriter> {
    const dest = this.pathOf(key);
    const dir = dirname(dest);
    const tmp = join(dir, `${TMP_PREFIX}${(tmpCount++).toString(36)}`);
    const fs = this.#fs;
    let fd: number;
    try {
      fd = await fs.open(tmp, 'w');
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await fs.mkdirs(dir);
      fd = await fs.open(tmp, 'w');
    }
    let done = false;
    return {
      async write(chunk) {
        let off = 0;
        while (off < chunk.byteLength) off += await fs.write(fd, chunk, off, chunk.byteLength - off);
      },
      async close() {
        if (done) return;
        done = true;
        await fs.close(fd);
        await fs.rename(tmp, dest);
      },
      async abort() {
        if (done) return;
        done = true;
        await fs.close(fd).catch(() => {});
        await fs.remove(tmp);
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
    await this.#fs.mkdirs(dirname(dest));
    await this.#fs.rename(this.pathOf(from), dest);
  }

  async delete(key: string): Promise<void> {
    await this.#fs.remove(this.pathOf(key));
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix === '' || prefix.endsWith('/')) {
      await removeTree(prefix === '' ? this.root : this.pathOf(prefix.slice(0, -1)));
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
