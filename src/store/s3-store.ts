import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { backoffMs, sleep } from '../backoff.js';
import { FanoutError, InputChangedError, inputChanged, UsageError } from '../errors.js';
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
import { DEFAULT_MAX_ATTEMPTS, defaultS3Client, sharedS3Client } from './s3-client.js';
import { codeOf, isRetryableS3Error, statusOf, toS3StoreError } from './s3-retry.js';
import { formatS3Url, parseS3Url, type S3Location } from './s3-url.js';
import { openS3Writer } from './s3-writer.js';

const MiB = 1024 * 1024;
/** S3 rejects parts under 5 MiB (except the last) and over 5 GiB. */
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH = 1000;

/** How an S3Store talks to S3. */
export interface S3StoreOptions {
  /** A configured client (tests and emulators pass one). @default `defaultS3Client(maxAttempts)` */
  client?: S3Client;
  /** Every request fails with 403 unless the bucket belongs to this 12-digit account id. */
  expectedBucketOwner?: string;
  /** Server-side encryption for objects this store writes. @default the bucket's default encryption */
  sse?: { kind: 'AES256' } | { kind: 'aws:kms'; keyId?: string };
  /** Attempts per request of the default client, and per GET body that breaks mid-stream. @default 5 */
  maxAttempts?: number;
  /** Part size of multipart uploads; bodies up to this size go in one PutObject. @default 8 MiB */
  partSize?: number;
}

const DEFAULT_PART_SIZE = 8 * MiB;

/**
 * An ObjectStore over `s3://bucket/prefix/`: keys are relative to the prefix, as in LocalDirStore.
 * Objects appear whole: small bodies go in one PutObject, large ones in a multipart upload that
 * S3 publishes only when it completes. `rename` is CopyObject then DeleteObject, so it is limited
 * to objects of at most 5 GiB (S3's CopyObject limit) and is not atomic across the two keys.
 * `head` needs s3:ListBucket: without it S3 answers 403 instead of 404 for a missing key.
 * `putIf` uses S3's conditional writes (`If-None-Match: *`, `If-Match: <etag>`, since August and
 * November 2024); emulators that ignore those headers silently break its guarantee (s3rver ignores
 * both: `mr dev`'s S3 emulator answers If-None-Match itself, not If-Match).
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  /** Key prefix of the store's root: `''` or ending with `/`. */
  readonly root: string;
  readonly #client: S3Client;
  readonly #owner: string | undefined;
  readonly #sse: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string };
  readonly #maxAttempts: number;
  readonly #partSize: number;

  /** @throws {UsageError} on a bad URL or option, showing the value received. */
  constructor(location: string | S3Location, options: S3StoreOptions = {}) {
    const loc = typeof location === 'string' ? parseS3Url(location) : location;
    this.bucket = loc.bucket;
    this.root = loc.prefix;
    this.url = formatS3Url(loc);
    const { maxAttempts = DEFAULT_MAX_ATTEMPTS, partSize = DEFAULT_PART_SIZE, expectedBucketOwner } = options;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new UsageError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
    }
    if (!Number.isInteger(partSize) || partSize < MIN_PART || partSize > MAX_PART) {
      throw new UsageError(`partSize must be an integer from 5 MiB to 5 GiB, got ${partSize}`);
    }
    if (expectedBucketOwner !== undefined && !/^\d{12}$/.test(expectedBucketOwner)) {
      throw new UsageError(`expectedBucketOwner must be a 12-digit account id, got ${expectedBucketOwner}`);
    }
    this.#owner = expectedBucketOwner;
    this.#maxAttempts = maxAttempts;
    this.#partSize = partSize;
    const sse = options.sse;
    this.#sse =
      sse === undefined
        ? {}
        : sse.kind === 'AES256'
          ? { ServerSideEncryption: 'AES256' }
          : { ServerSideEncryption: 'aws:kms', ...(sse.keyId ? { SSEKMSKeyId: sse.keyId } : {}) };
    this.#client =
      options.client ?? (options.maxAttempts === undefined ? sharedS3Client() : defaultS3Client(maxAttempts));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const page of this.#pages(prefix)) {
      for (const o of page) {
        // A zero-byte key ending in `/` is a "folder" made by the console, not data.
        if (o.key === '' || (o.key.endsWith('/') && o.size === 0)) continue;
        yield o;
      }
    }
  }

  /** Listing pages (up to 1,000 keys each, in key order), folder markers included. */
  async *#pages(prefix: string): AsyncIterable<ObjectInfo[]> {
    let token: string | undefined;
    do {
      const page = await this.#call('ListObjectsV2', prefix, (c) =>
        c.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.root + prefix,
            ContinuationToken: token,
            ExpectedBucketOwner: this.#owner,
          }),
        ),
      );
      const objects: ObjectInfo[] = [];
      for (const o of page.Contents ?? []) {
        if (o.Key?.startsWith(this.root))
          objects.push({
            key: o.Key.slice(this.root.length),
            size: o.Size ?? 0,
            ...(o.ETag && { etag: o.ETag }),
          });
      }
      yield objects;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({
          Bucket: this.bucket,
          Key: this.root + key,
          ExpectedBucketOwner: this.#owner,
        }),
      );
      return { key, size: out.ContentLength ?? 0, ...(out.ETag && { etag: out.ETag }) };
    } catch (err) {
      // HEAD responses have no body, so a missing key is only a bare 404 (`NotFound`).
      if (statusOf(err) === 404) return undefined;
      throw toS3StoreError(err, 'HeadObject', this.#target(key));
    }
  }

  async get(key: string, range?: ByteRange, expected?: ReadExpectation): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.stream(key, range, expected)) chunks.push(chunk);
    return chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks);
  }

  /**
   * Streams the object or range. A body that breaks mid-stream with a retryable error resumes
   * from the last byte received, pinned to the same object version by its ETag. With `expected`,
   * every GET is pinned to the ETag listed (`If-Match`).
   */
  async *stream(key: string, range?: ByteRange, expected?: ReadExpectation): AsyncIterable<Uint8Array> {
    const end = range?.end ?? Number.POSITIVE_INFINITY;
    let pos = range?.start ?? 0;
    let etag = expected?.etag;
    let failures = 0;
    while (pos < end) {
      const bounded = range !== undefined || pos > 0;
      const opened = await this.#open(key, pos, bounded ? end : undefined, etag, expected);
      if (!opened) return;
      etag ??= opened.etag;
      const it = opened.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      try {
        for (;;) {
          let next: IteratorResult<Buffer>;
          try {
            next = await it.next();
          } catch (err) {
            if (!isRetryableS3Error(err) || ++failures >= this.#maxAttempts) {
              throw toS3StoreError(err, 'GetObject (body)', this.#target(key));
            }
            await sleep(backoffMs(failures, 100, 20_000));
            break;
          }
          if (next.done) return;
          pos += next.value.byteLength;
          failures = 0;
          yield next.value;
        }
      } finally {
        opened.body.destroy();
      }
    }
  }

  /**
   * Starts a GET from `start` to `end` (exclusive); undefined when the range starts past the end.
   * @throws {InputChangedError} when the object no longer matches `expected`.
   */
  async #open(
    key: string,
    start: number,
    end: number | undefined,
    etag: string | undefined,
    expected: ReadExpectation | undefined,
  ): Promise<{ body: Readable; etag: string | undefined } | undefined> {
    const range =
      end === undefined ? undefined : `bytes=${start}-${Number.isFinite(end) ? String(end - 1) : ''}`;
    try {
      const out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.root + key,
          Range: range,
          IfMatch: etag,
          ExpectedBucketOwner: this.#owner,
        }),
      );
      if (!(out.Body instanceof Readable)) throw new FanoutError('S3 GetObject returned no Node.js stream');
      // S3 answers 416 for a range past the end, but s3rver answers a ranged GET of an empty
      // object with `206`, `Content-Range: bytes 0-0/0` and a body that never comes.
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      if (expected)
        this.#check(key, expected, out.ETag, total ?? (range ? undefined : out.ContentLength), out.Body);
      if (total !== undefined && start >= Number(total)) {
        out.Body.destroy();
        return undefined;
      }
      return { body: out.Body, etag: out.ETag };
    } catch (err) {
      if (err instanceof InputChangedError) throw err;
      const status = statusOf(err);
      const code = codeOf(err);
      if (expected) {
        // 412: another version than the one listed; 404: deleted; 416: now shorter than `start`.
        if (status === 412 || code === 'PreconditionFailed') throw await this.#changed(key, expected.size);
        if (code === 'NoSuchKey' || (status === 404 && code !== 'NoSuchBucket'))
          throw inputChanged(this.#target(key), expected.size, 'gone');
        if (status === 416 && start < expected.size) throw await this.#changed(key, expected.size);
      }
      // 416: the range starts at or past the end (or the object is empty); LocalDirStore yields nothing.
      if (range !== undefined && status === 416) return undefined;
      throw toS3StoreError(err, 'GetObject', this.#target(key));
    }
  }

  /**
   * Throws InputChangedError when a GET's object is not the one listed. Checked here as well as by
   * If-Match: emulators (s3rver) ignore If-Match on GET, and a listing without ETags is sized only.
   */
  #check(
    key: string,
    expected: ReadExpectation,
    etag: string | undefined,
    total: string | number | undefined,
    body: Readable,
  ): void {
    const size = total === undefined ? expected.size : Number(total);
    const otherVersion = expected.etag !== undefined && etag !== undefined && !sameEtag(etag, expected.etag);
    if (size === expected.size && !otherVersion) return;
    body.destroy();
    throw inputChanged(this.#target(key), expected.size, size);
  }

  /** The InputChangedError for a key that no longer matches its listing, with its size now. */
  async #changed(key: string, planned: number): Promise<InputChangedError> {
    const now = await this.head(key);
    return inputChanged(this.#target(key), planned, now?.size ?? 'gone');
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (bytes.byteLength > this.#partSize) {
      const upload = new Upload({
        client: this.#client,
        partSize: this.#partSize,
        params: { ...this.#putParams(key), Body: bytes },
      });
      await this.#call('Upload', key, () => upload.done());
      return;
    }
    await this.#call('PutObject', key, (c) =>
      c.send(new PutObjectCommand({ ...this.#putParams(key), Body: bytes })),
    );
  }

  /**
   * Streams into a lib-storage Upload: one PutObject if the body stays within a part, else a
   * multipart upload that becomes visible only on `close()`.
   */
  async openWriter(key: string): Promise<ObjectWriter> {
    return openS3Writer(this.#client, this.#putParams(key), this.#partSize, this.#target(key));
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.root + key, ExpectedBucketOwner: this.#owner }),
      );
      if (out.ETag === undefined) throw new FanoutError(`S3 GetObject ${this.#target(key)} returned no ETag`);
      if (!(out.Body instanceof Readable)) throw new FanoutError('S3 GetObject returned no Node.js stream');
      const chunks: Buffer[] = [];
      for await (const chunk of out.Body) chunks.push(chunk as Buffer);
      return { body: Buffer.concat(chunks), version: out.ETag };
    } catch (err) {
      // A missing bucket is also a 404, but an error: only a missing key means "no object".
      if (codeOf(err) === 'NoSuchKey' || (statusOf(err) === 404 && codeOf(err) !== 'NoSuchBucket')) {
        return undefined;
      }
      throw toS3StoreError(err, 'GetObject', this.#target(key));
    }
  }

  /**
   * One PutObject (up to 5 GiB) with `If-None-Match: *` or `If-Match: <etag>`. S3 answers 412
   * when the condition fails, and 409 when a concurrent conditional write to the key won the race.
   * If-Match on a key that no longer exists answers 404 NoSuchKey, also a lost race.
   * A write that succeeded but whose response was lost is retried by the SDK and then answers 412:
   * the caller sees `ok: false` for its own write, which it can recognise by reading the object.
   */
  async putIf(key: string, body: Uint8Array | string, condition: PutCondition): Promise<PutIfResult> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    try {
      const out = await this.#client.send(
        new PutObjectCommand({
          ...this.#putParams(key),
          Body: bytes,
          ...('ifAbsent' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifVersion }),
        }),
      );
      if (out.ETag === undefined) throw new FanoutError(`S3 PutObject ${this.#target(key)} returned no ETag`);
      return { ok: true, version: out.ETag };
    } catch (err) {
      const status = statusOf(err);
      const code = codeOf(err);
      if (status === 412 || code === 'PreconditionFailed') return { ok: false };
      if (status === 409 && code === 'ConditionalRequestConflict') return { ok: false };
      // If-Match on a key deleted since it was read.
      if ('ifVersion' in condition && code === 'NoSuchKey') return { ok: false };
      throw toS3StoreError(err, 'PutObject', this.#target(key));
    }
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === to) return;
    const source = `${this.bucket}/${(this.root + from).split('/').map(encodeURIComponent).join('/')}`;
    await this.#call('CopyObject', from, (c) =>
      c.send(
        new CopyObjectCommand({
          ...this.#putParams(to),
          CopySource: source,
          ExpectedSourceBucketOwner: this.#owner,
        }),
      ),
    );
    await this.delete(from);
  }

  async delete(key: string): Promise<void> {
    await this.#call('DeleteObject', key, (c) =>
      c.send(
        new DeleteObjectCommand({
          Bucket: this.bucket,
          Key: this.root + key,
          ExpectedBucketOwner: this.#owner,
        }),
      ),
    );
  }

  async deletePrefix(prefix: string): Promise<void> {
    // Each listing page holds at most 1,000 keys, exactly one DeleteObjects batch. Deleting a
    // page before fetching the next is safe: the continuation token resumes after the last key.
    for await (const page of this.#pages(prefix)) {
      for (let i = 0; i < page.length; i += DELETE_BATCH) {
        const keys = page.slice(i, i + DELETE_BATCH).map((o) => ({ Key: this.root + o.key }));
        const out = await this.#call('DeleteObjects', prefix, (c) =>
          c.send(
            new DeleteObjectsCommand({
              Bucket: this.bucket,
              Delete: { Objects: keys, Quiet: true },
              ExpectedBucketOwner: this.#owner,
            }),
          ),
        );
        const errors = out.Errors ?? [];
        if (errors.length > 0) {
          const first = errors[0];
          throw new FanoutError(
            `S3 DeleteObjects ${this.#target(prefix)} failed for ${errors.length} keys, first ${first?.Key}: ${first?.Code} ${first?.Message ?? ''}`,
            { retryable: errors.some((e) => isRetryableS3Error({ code: e.Code })) },
          );
        }
      }
    }
  }

  #putParams(key: string) {
    return { Bucket: this.bucket, Key: this.root + key, ExpectedBucketOwner: this.#owner, ...this.#sse };
  }

  #target(key: string): string {
    return `s3://${this.bucket}/${this.root}${key}`;
  }

  async #call<T>(operation: string, key: string, fn: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#client);
    } catch (err) {
      throw toS3StoreError(err, operation, this.#target(key));
    }
  }
}

/** ETags compare without their quotes: some S3-compatible stores list them bare but send them quoted. */
function sameEtag(a: string, b: string): boolean {
  const bare = (e: string) => e.replace(/^(W\/)?"(.*)"$/, '$2');
  return bare(a) === bare(b);
}
