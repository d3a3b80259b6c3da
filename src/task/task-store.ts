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
import { openStore } from '../store/open-store.js';
import { attemptFault, injectedError } from './attempt-faults.js';
import { faultPlan } from './faults.js';

/**
 * Opens a store for task code (a map or reduce attempt's reads and writes). With FANOUT_FAULTS
 * naming `store.get` or `store.put` the store fails on purpose. Only task code gets the faulty
 * store: a failed attempt is retried by the scheduler, while a fault in the driver's own job-state
 * writes would end the run, testing nothing but that it ends.
 */
export function openTaskStore(location: string): ObjectStore {
  const store = openStore(location);
  return faultPlan()?.names('store.get', 'store.put') ? new FaultyStore(store) : store;
}

/** A store that fails reads and writes at the rates of the fault plan; each call decides once. */
class FaultyStore implements ObjectStore {
  readonly #inner: ObjectStore;

  constructor(inner: ObjectStore) {
    this.#inner = inner;
  }

  get url(): string {
    return this.#inner.url;
  }

  #read(key: string): void {
    const kind = attemptFault('store.get');
    if (kind) throw injectedError('store.get', kind, `reading ${key}`);
  }

  #write(key: string): void {
    const kind = attemptFault('store.put');
    if (kind) throw injectedError('store.put', kind, `writing ${key}`);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.#inner.list(prefix);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.#read(key);
    return this.#inner.head(key);
  }

  async get(key: string, range?: ByteRange, expected?: ReadExpectation): Promise<Uint8Array> {
    this.#read(key);
    return this.#inner.get(key, range, expected);
  }

  async *stream(key: string, range?: ByteRange, expected?: ReadExpectation): AsyncIterable<Uint8Array> {
    this.#read(key);
    yield* this.#inner.stream(key, range, expected);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.#write(key);
    return this.#inner.put(key, body);
  }

  async openWriter(key: string): Promise<ObjectWriter> {
    const writer = await this.#inner.openWriter(key);
    // The fault comes as the object is published, after its bytes were written: the costliest place.
    // The caller aborts the writer on the error, as on any failed close.
    return {
      write: (chunk) => writer.write(chunk),
      close: async () => {
        const kind = attemptFault('store.put');
        if (kind) throw injectedError('store.put', kind, `writing ${key}`);
        return writer.close();
      },
      abort: () => writer.abort(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.#write(to);
    return this.#inner.rename(from, to);
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key);
  }

  deletePrefix(prefix: string): Promise<void> {
    return this.#inner.deletePrefix(prefix);
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    this.#read(key);
    return this.#inner.getVersioned(key);
  }

  async putIf(key: string, body: Uint8Array | string, condition: PutCondition): Promise<PutIfResult> {
    this.#write(key);
    return this.#inner.putIf(key, body, condition);
  }
}
