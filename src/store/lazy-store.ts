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

/**
 * An ObjectStore that loads its implementation on first use, so a run that never touches S3 never
 * loads the AWS SDK (about 80 ms per process and worker thread).
 */
export class LazyStore implements ObjectStore {
  readonly url: string;
  readonly #load: () => Promise<ObjectStore>;
  #store: Promise<ObjectStore> | undefined;

  constructor(url: string, load: () => Promise<ObjectStore>) {
    this.url = url;
    this.#load = load;
  }

  #get(): Promise<ObjectStore> {
    this.#store ??= this.#load();
    return this.#store;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* (await this.#get()).list(prefix);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return (await this.#get()).head(key);
  }

  async get(key: string, range?: ByteRange, expected?: ReadExpectation): Promise<Uint8Array> {
    return (await this.#get()).get(key, range, expected);
  }

  async *stream(key: string, range?: ByteRange, expected?: ReadExpectation): AsyncIterable<Uint8Array> {
    yield* (await this.#get()).stream(key, range, expected);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    return (await this.#get()).put(key, body);
  }

  async openWriter(key: string): Promise<ObjectWriter> {
    return (await this.#get()).openWriter(key);
  }

  async rename(from: string, to: string): Promise<void> {
    return (await this.#get()).rename(from, to);
  }

  async delete(key: string): Promise<void> {
    return (await this.#get()).delete(key);
  }

  async deletePrefix(prefix: string): Promise<void> {
    return (await this.#get()).deletePrefix(prefix);
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    return (await this.#get()).getVersioned(key);
  }

  async putIf(key: string, body: Uint8Array | string, condition: PutCondition): Promise<PutIfResult> {
    return (await this.#get()).putIf(key, body, condition);
  }
}
