/** One stored object as listed. */
export interface ObjectInfo {
  /** Key relative to the store's root, `/`-separated. */
  key: string;
  size: number;
  /**
   * Opaque, and different whenever the object's bytes are: the ETag on S3, a file's inode, size and
   * modification time locally. Compare it only with an etag from the same store.
   */
  etag?: string;
}

/**
 * What a read expects of an object, as it was listed. A store checks it when it opens the object
 * and throws InputChangedError (not retryable) when the object is gone, another size, or another
 * etag: reading on would mix versions or miss records.
 */
export interface ReadExpectation {
  size: number;
  /** ObjectInfo.etag as listed; without it only the size is checked. */
  etag?: string;
}

/** Half-open byte range `[start, end)`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Streams bytes into one object that becomes visible, whole, only on `close()`. */
export interface ObjectWriter {
  /** Appends `chunk`; the caller may reuse its memory once the promise resolves. */
  write(chunk: Uint8Array): Promise<void>;
  /** Publishes the object atomically. */
  close(): Promise<void>;
  /** Drops everything written; the object never appears. */
  abort(): Promise<void>;
}

/** An object's bytes with the version a conditional write must name to replace it. */
export interface VersionedObject {
  body: Uint8Array;
  /** Opaque: the ETag on S3, a content hash locally. */
  version: string;
}

/** When a conditional write may go ahead: the object is absent, or still at a version read earlier. */
export type PutCondition = { ifVersion: string } | { ifAbsent: true };

/** Outcome of a conditional write; `ok: false` means another writer got there first. */
export type PutIfResult = { ok: true; version: string } | { ok: false };

/**
 * A flat key/value blob store: the seam between the engine and S3 or a local directory.
 * Keys are `/`-separated and relative to the store's root; the layout is the same on every backend.
 */
export interface ObjectStore {
  /** Where this store lives, as a URL another process can reopen with `openStore`. */
  readonly url: string;
  /** Every object under `prefix`, recursively, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Size (and etag) of an object, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Whole object, or one byte range of it; `expected` as for `stream`. */
  get(key: string, range?: ByteRange, expected?: ReadExpectation): Promise<Uint8Array>;
  /**
   * Streams an object, or one byte range of it, in chunks.
   * @throws {InputChangedError} when the object no longer matches `expected` as it is opened.
   */
  stream(key: string, range?: ByteRange, expected?: ReadExpectation): AsyncIterable<Uint8Array>;
  /** Writes a whole object atomically. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  openWriter(key: string): Promise<ObjectWriter>;
  /** Moves an object; the destination appears whole or not at all. */
  rename(from: string, to: string): Promise<void>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<void>;
  /** Whole object and its version, or undefined when it does not exist. */
  getVersioned(key: string): Promise<VersionedObject | undefined>;
  /**
   * Writes a whole object only if `condition` holds at the moment of writing (compare-and-swap):
   * of several writers naming the same version, or all asking for absence, exactly one succeeds.
   * Losing is an answer, not an error. Plain `put` ignores these conditions and must not be mixed
   * with `putIf` on one key.
   */
  putIf(key: string, body: Uint8Array | string, condition: PutCondition): Promise<PutIfResult>;
}
