/** One stored object as listed. */
export interface ObjectInfo {
  /** Key relative to the store's root, `/`-separated. */
  key: string;
  size: number;
}

/** Half-open byte range `[start, end)`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Streams bytes into one object that becomes visible, whole, only on `close()`. */
export interface ObjectWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Publishes the object atomically. */
  close(): Promise<void>;
  /** Drops everything written; the object never appears. */
  abort(): Promise<void>;
}

/**
 * A flat key/value blob store: the seam between the engine and S3 or a local directory.
 * Keys are `/`-separated and relative to the store's root; the layout is the same on every backend.
 */
export interface ObjectStore {
  /** Where this store lives, as a URL another process can reopen with `openStore`. */
  readonly url: string;
  /** Every object under `prefix`, recursively, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Size of an object, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Whole object, or one byte range of it. */
  get(key: string, range?: ByteRange): Promise<Uint8Array>;
  /** Streams an object, or one byte range of it, in chunks. */
  stream(key: string, range?: ByteRange): AsyncIterable<Uint8Array>;
  /** Writes a whole object atomically. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  openWriter(key: string): Promise<ObjectWriter>;
  /** Moves an object; the destination appears whole or not at all. */
  rename(from: string, to: string): Promise<void>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<void>;
}
