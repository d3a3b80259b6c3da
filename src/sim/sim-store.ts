import { FanoutError, inputChanged } from '../errors.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  ObjectWriter,
  PutCondition,
  PutIfResult,
  ReadExpectation,
  VersionedObject,
} from '../store/object-store.js';
import { currentWorld, type SimObject, type SimWorld } from './sim-world.js';

const CHUNK = 1 << 20;
const MB = 1e6;

/**
 * The simulated S3, as an ObjectStore at a `sim://<root>` location: objects live in the current
 * SimWorld, every call is counted as the request S3 would bill and takes the model's request time
 * (plus its bytes at one function's throughput) on the virtual clock. What the simulated tasks
 * "write" has a size and no bytes; reading it gives zeros. Calls act on the world current when
 * they are made, so a store cached by openStore outlives no simulation.
 */
export class SimStore implements ObjectStore {
  readonly url: string;
  readonly #root: string;

  constructor(url: URL) {
    const root = `${url.host}${url.pathname}`.replace(/\/+$/, '');
    this.#root = root === '' ? '' : `${root}/`;
    this.url = `sim://${root}`;
  }

  /** The world-wide key of a key of this store. */
  fullKey(key: string): string {
    return this.#root + key;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const w = currentWorld();
    const full = this.fullKey(prefix);
    const found: ObjectInfo[] = [];
    for (const [k, o] of w.objects) {
      if (k.startsWith(full)) found.push({ key: k.slice(this.#root.length), size: o.size, etag: etag(o) });
    }
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // One LIST per 1,000 keys, as S3 pages them.
    const pages = Math.max(1, Math.ceil(found.length / 1000));
    w.counts.requests.list += pages;
    await w.clock.sleep(pages * w.model.requestMs);
    yield* found;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const w = await this.#request('head', 0);
    const o = w.objects.get(this.fullKey(key));
    return o ? { key, size: o.size, etag: etag(o) } : undefined;
  }

  async get(key: string, range?: ByteRange, expected?: ReadExpectation): Promise<Uint8Array> {
    const o = this.#found(key, expected);
    const start = Math.min(range?.start ?? 0, o.size);
    const end = Math.min(range?.end ?? o.size, o.size);
    await this.#request('get', end - start);
    return o.body ? o.body.subarray(start, end) : new Uint8Array(Math.max(0, end - start));
  }

  async *stream(key: string, range?: ByteRange, expected?: ReadExpectation): AsyncIterable<Uint8Array> {
    const bytes = await this.get(key, range, expected);
    for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, i + CHUNK);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Uint8Array.from(body);
    const w = await this.#request('put', bytes.length);
    w.put(this.fullKey(key), bytes.length, bytes);
  }

  async openWriter(key: string): Promise<ObjectWriter> {
    const chunks: Uint8Array[] = [];
    let open = true;
    return {
      write: async (chunk) => {
        if (open) chunks.push(Uint8Array.from(chunk));
      },
      close: async () => {
        if (!open) return;
        open = false;
        await this.put(key, Buffer.concat(chunks));
      },
      abort: async () => {
        open = false;
        chunks.length = 0;
      },
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const o = this.#found(from, undefined);
    // CopyObject (billed as a PUT), then DeleteObject.
    const w = await this.#request('put', 0);
    w.put(this.fullKey(to), o.size, o.body);
    await this.delete(from);
  }

  async delete(key: string): Promise<void> {
    const w = await this.#request('delete', 0);
    w.objects.delete(this.fullKey(key));
  }

  async deletePrefix(prefix: string): Promise<void> {
    const w = currentWorld();
    const full = this.fullKey(prefix);
    const keys = [...w.objects.keys()].filter((k) => k.startsWith(full));
    // A LIST and a DeleteObjects per 1,000 keys.
    const pages = Math.max(1, Math.ceil(keys.length / 1000));
    w.counts.requests.list += pages;
    w.counts.requests.delete += pages;
    await w.clock.sleep(2 * pages * w.model.requestMs);
    for (const k of keys) w.objects.delete(k);
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    const w = await this.#request('get', 0);
    const o = w.objects.get(this.fullKey(key));
    return o ? { body: o.body ?? new Uint8Array(o.size), version: etag(o) } : undefined;
  }

  async putIf(key: string, body: Uint8Array | string, condition: PutCondition): Promise<PutIfResult> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Uint8Array.from(body);
    const w = await this.#request('put', bytes.length);
    const full = this.fullKey(key);
    const o = w.objects.get(full);
    const holds =
      'ifAbsent' in condition ? o === undefined : o !== undefined && etag(o) === condition.ifVersion;
    if (!holds) return { ok: false };
    w.put(full, bytes.length, bytes);
    return { ok: true, version: etag(w.objects.get(full) as SimObject) };
  }

  /** Counts one request and waits its time: the model's latency plus its bytes at one function's pace. */
  async #request(kind: 'get' | 'put' | 'head' | 'delete', bytes: number): Promise<SimWorld> {
    const w = currentWorld();
    w.counts.requests[kind]++;
    const mbps = kind === 'put' ? w.model.writeMBps : w.model.readMBps;
    await w.clock.sleep(w.model.requestMs + (bytes / (mbps * MB)) * 1000);
    return w;
  }

  #found(key: string, expected: ReadExpectation | undefined): SimObject {
    const o = currentWorld().objects.get(this.fullKey(key));
    const name = `${this.url}/${key}`;
    if (!o) {
      if (expected) throw inputChanged(name, expected.size, 'gone');
      throw new FanoutError(`no such object in the simulated store: ${name}`);
    }
    if (
      expected &&
      (o.size !== expected.size || (expected.etag !== undefined && expected.etag !== etag(o)))
    ) {
      throw inputChanged(name, expected.size, o.size);
    }
    return o;
  }
}

const etag = (o: SimObject) => `v${o.version}`;

/** The world-wide key of `key` in the `sim://` store at `store`: what simulated tasks name objects by. */
export const simKey = (store: string, key: string): string => new SimStore(new URL(store)).fullKey(key);
