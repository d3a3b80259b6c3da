import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FanoutError, InputChangedError, UsageError } from '../../src/errors.js';
import { LocalDirStore } from '../../src/store/local-dir-store.js';
import type { ObjectInfo, ObjectStore } from '../../src/store/object-store.js';
import { openStore } from '../../src/store/open-store.js';
import { S3Store } from '../../src/store/s3-store.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { S3RVER_CREDENTIALS, type S3rverHandle, s3rverClient, startS3rver } from '../helpers/s3rver.js';
import { s3Error, stubbedClient } from '../helpers/stub-s3.js';
import { tempDir } from '../helpers/temp.js';

const BUCKET = 'fanout-test';
const MiB = 1024 * 1024;
/** S3's minimum part size; a body just over it makes a two-part upload. */
const PART = 5 * MiB;

let s3: S3rverHandle | undefined;
let client: S3Client | undefined;
const tmp = tempDir('s3-contract');
let serial = 0;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  client = s3.client();
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  tmp.cleanup();
});

function s3Client(): S3Client {
  if (!client) throw new Error('s3rver did not start');
  return client;
}

interface Backend {
  name: string;
  /** A fresh, empty store for one test. */
  open(): ObjectStore;
}

const backends: Backend[] = [
  { name: 'LocalDirStore', open: () => new LocalDirStore(join(tmp.path, `store-${++serial}`)) },
  {
    // As local worker threads open it: every file-system call blocks the thread.
    name: 'LocalDirStore (blocking)',
    open: () => new LocalDirStore(join(tmp.path, `store-${++serial}`), { blocking: true }),
  },
  {
    name: 'S3Store on s3rver',
    open: () =>
      new S3Store({ bucket: BUCKET, prefix: `store-${++serial}/` }, { client: s3Client(), partSize: PART }),
  },
];

/** Deterministic bytes that differ at every offset mod 251, so a misplaced range shows. */
function bytes(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}

async function keysOf(store: ObjectStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

async function infosOf(store: ObjectStore, prefix = ''): Promise<ObjectInfo[]> {
  const infos: ObjectInfo[] = [];
  for await (const o of store.list(prefix)) infos.push(o);
  return infos;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of it) chunks.push(c);
  return Buffer.concat(chunks);
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe.each(backends)('ObjectStore contract: $name', (backend) => {
  it('puts, heads and gets strings, bytes and empty objects', async () => {
    const store = backend.open();
    await store.put('dir/text.txt', 'héllo\n');
    await store.put('bin', bytes(1000));
    await store.put('empty', '');

    expect(await store.head('dir/text.txt')).toEqual({
      key: 'dir/text.txt',
      size: 7,
      etag: expect.any(String),
    });
    expect(Buffer.from(await store.get('dir/text.txt')).toString()).toBe('héllo\n');
    expect(Buffer.from(await store.get('bin')).equals(bytes(1000))).toBe(true);
    expect(await store.head('empty')).toEqual({ key: 'empty', size: 0, etag: expect.any(String) });
    expect((await store.get('empty')).byteLength).toBe(0);
  });

  it('answers undefined for the head of a missing key', async () => {
    const store = backend.open();
    await store.put('present', 'x');
    expect(await store.head('missing')).toBeUndefined();
    expect(await store.head('presen')).toBeUndefined();
  });

  it('gets byte ranges, clipped at the end of the object', async () => {
    const store = backend.open();
    const data = bytes(1000, 7);
    await store.put('r', data);
    await store.put('empty', '');

    expect(Buffer.from(await store.get('r', { start: 10, end: 20 })).equals(data.subarray(10, 20))).toBe(
      true,
    );
    expect(Buffer.from(await store.get('r', { start: 990, end: 1500 })).equals(data.subarray(990))).toBe(
      true,
    );
    expect((await store.get('r', { start: 1000, end: 1010 })).byteLength).toBe(0);
    expect((await store.get('r', { start: 5, end: 5 })).byteLength).toBe(0);
    expect((await store.get('empty', { start: 0, end: 10 })).byteLength).toBe(0);
  });

  it('streams whole objects and ranges', async () => {
    const store = backend.open();
    const data = bytes(300_000, 3);
    await store.put('s', data);

    expect((await collect(store.stream('s'))).equals(data)).toBe(true);
    expect(
      (await collect(store.stream('s', { start: 12_345, end: 200_001 }))).equals(
        data.subarray(12_345, 200_001),
      ),
    ).toBe(true);
    expect(
      (await collect(store.stream('s', { start: 299_990, end: 400_000 }))).equals(data.subarray(299_990)),
    ).toBe(true);
    expect((await collect(store.stream('s', { start: 300_000, end: 300_010 }))).byteLength).toBe(0);
  });

  it('stops a stream early without error when the consumer breaks', async () => {
    const store = backend.open();
    await store.put('s', bytes(3 * MiB));
    let seen = 0;
    for await (const chunk of store.stream('s')) {
      seen += chunk.byteLength;
      break;
    }
    expect(seen).toBeGreaterThan(0);
    expect(await store.head('s')).toEqual({ key: 's', size: 3 * MiB, etag: expect.any(String) });
  });

  it('lists recursively, in key order, treating the prefix as a string prefix', async () => {
    const store = backend.open();
    // Not 'a/bc.txt' next to 'a/bc/d': s3rver lists folder by folder, so it would put 'a/bc/d'
    // first, where S3 (and LocalDirStore) order by bytes and put '.' (0x2E) before '/' (0x2F).
    const keys = ['b', 'a/c', 'a/bc/d', 'a/b/d/e', 'ab', 'a/bcd.txt', 'a/b/c'];
    for (const [i, k] of keys.entries()) await store.put(k, 'x'.repeat(i));

    expect(await keysOf(store)).toEqual(['a/b/c', 'a/b/d/e', 'a/bc/d', 'a/bcd.txt', 'a/c', 'ab', 'b']);
    expect(await keysOf(store, 'a/b')).toEqual(['a/b/c', 'a/b/d/e', 'a/bc/d', 'a/bcd.txt']);
    expect(await keysOf(store, 'a/b/')).toEqual(['a/b/c', 'a/b/d/e']);
    expect(await keysOf(store, 'a/bc')).toEqual(['a/bc/d', 'a/bcd.txt']);
    expect(await keysOf(store, 'zzz')).toEqual([]);
    const sizes: Record<string, number> = {};
    for await (const o of store.list('')) sizes[o.key] = o.size;
    expect(sizes).toEqual({ b: 0, 'a/c': 1, 'a/bc/d': 2, 'a/b/d/e': 3, ab: 4, 'a/bcd.txt': 5, 'a/b/c': 6 });
  });

  it('publishes a writer only on close, with the bytes as they were when written', async () => {
    const store = backend.open();
    const w = await store.openWriter('out/part-00000');
    const buf = Buffer.from('first|');
    await w.write(buf);
    buf.write('again|'); // the caller reuses its buffer, as RecordWriter does
    await w.write(buf);
    await w.write(new Uint8Array(0));

    expect(await store.head('out/part-00000')).toBeUndefined();
    expect(await keysOf(store)).toEqual([]);
    await w.close();
    expect(Buffer.from(await store.get('out/part-00000')).toString()).toBe('first|again|');
    await w.close(); // a second close is a no-op
  });

  it('publishes an empty object from a writer closed without writes', async () => {
    const store = backend.open();
    const w = await store.openWriter('empty');
    await w.close();
    expect(await store.head('empty')).toEqual({ key: 'empty', size: 0, etag: expect.any(String) });
  });

  it('leaves nothing behind when a writer is aborted', async () => {
    const store = backend.open();
    const w = await store.openWriter('out/aborted');
    await w.write(Buffer.from('partial'));
    await w.abort();

    expect(await store.head('out/aborted')).toBeUndefined();
    expect(await keysOf(store)).toEqual([]);
  });

  it('writes an object larger than one part through a writer, and reads it back', async () => {
    const store = backend.open();
    const data = bytes(PART + MiB / 2, 11);
    const w = await store.openWriter('big');
    for (let off = 0; off < data.length; off += 256 * 1024)
      await w.write(data.subarray(off, off + 256 * 1024));
    await w.close();

    expect(await store.head('big')).toEqual({ key: 'big', size: data.length, etag: expect.any(String) });
    expect((await collect(store.stream('big'))).equals(data)).toBe(true);
    const mid = { start: PART - 100, end: PART + 100 };
    expect(Buffer.from(await store.get('big', mid)).equals(data.subarray(mid.start, mid.end))).toBe(true);
  });

  it('leaves nothing behind when a writer is aborted after a whole part', async () => {
    const store = backend.open();
    const w = await store.openWriter('big-aborted');
    await w.write(bytes(PART + 1024));
    await w.abort();
    expect(await keysOf(store)).toEqual([]);
  });

  it('puts a body larger than one part', async () => {
    const store = backend.open();
    const data = bytes(PART + 4096, 5);
    await store.put('big-put', data);
    expect(Buffer.from(await store.get('big-put')).equals(data)).toBe(true);
  });

  it('renames an object, with spaces in its keys', async () => {
    const store = backend.open();
    await store.put('_temporary/attempt 1/part-00000', 'data');
    await store.rename('_temporary/attempt 1/part-00000', 'final dir/part-00000');

    expect(await keysOf(store)).toEqual(['final dir/part-00000']);
    expect(Buffer.from(await store.get('final dir/part-00000')).toString()).toBe('data');
  });

  it('deletes one object, and ignores a missing one', async () => {
    const store = backend.open();
    await store.put('a', '1');
    await store.put('b', '2');
    await store.delete('a');
    await store.delete('never-there');
    expect(await keysOf(store)).toEqual(['b']);
  });

  it('lists and heads the same etag, and another one once the object is rewritten', async () => {
    const store = backend.open();
    await store.put('k', bytes(1000, 1));
    const [listed] = await infosOf(store);
    const headed = await store.head('k');
    expect(listed?.etag).toEqual(expect.any(String));
    expect(headed?.etag).toBe(listed?.etag);

    await store.put('k', bytes(1000, 2));
    expect((await store.head('k'))?.etag).not.toBe(listed?.etag);
  });

  it('reads an object that still matches its listing, whole, by range and by get', async () => {
    const store = backend.open();
    const data = bytes(300_000, 4);
    await store.put('k', data);
    const info = await store.head('k');
    if (!info) throw new Error('no head');

    expect((await collect(store.stream('k', undefined, info))).equals(data)).toBe(true);
    const range = { start: 1000, end: 2000 };
    expect((await collect(store.stream('k', range, info))).equals(data.subarray(1000, 2000))).toBe(true);
    expect(
      Buffer.from(await store.get('k', range, { size: info.size })).equals(data.subarray(1000, 2000)),
    ).toBe(true);
  });

  it.each([
    [
      'rewritten with the same size',
      (s: ObjectStore) => s.put('k', bytes(1000, 9)),
      'now 1000 but rewritten',
    ],
    ['shrunk', (s: ObjectStore) => s.put('k', bytes(600)), 'now 600'],
    ['deleted', (s: ObjectStore) => s.delete('k'), 'now gone'],
  ])('refuses to read an object %s since it was listed, without a retry', async (_what, change, now) => {
    const store = backend.open();
    await store.put('k', bytes(1000));
    const info = await store.head('k');
    if (!info) throw new Error('no head');
    await change(store);

    const err = await collect(store.stream('k', { start: 100, end: 200 }, info)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputChangedError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(
      new RegExp(
        `^input \\S+/k changed while the job ran \\(planned 1000 bytes, ${now}\\): rerun once it is stable$`,
      ),
    );
    await expect(store.get('k', undefined, info)).rejects.toThrow(InputChangedError);
  });

  it('refuses an object of another size than expected when no etag is known', async () => {
    const store = backend.open();
    await store.put('part-00000.jsonl', bytes(500));
    await expect(collect(store.stream('part-00000.jsonl', undefined, { size: 501 }))).rejects.toThrow(
      /planned 501 bytes, now 500\)/,
    );
  });

  it('deletes by prefix, folder or not', async () => {
    const store = backend.open();
    for (const k of ['a/b/c', 'a/bc', 'a/c', 'x/1', 'x/y/2', 'xy']) await store.put(k, k);

    await store.deletePrefix('a/b');
    expect(await keysOf(store)).toEqual(['a/c', 'x/1', 'x/y/2', 'xy']);
    await store.deletePrefix('x/');
    expect(await keysOf(store)).toEqual(['a/c', 'xy']);
    await store.deletePrefix('nothing/');
    expect(await keysOf(store)).toEqual(['a/c', 'xy']);
  });

  it('deletes a prefix holding more than 1,000 objects (two DeleteObjects batches on S3)', async () => {
    const store = backend.open();
    const keys = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    await inBatches(keys, 50, (k) => store.put(k, 'x'));
    await store.put('keep', 'k');
    let listed = 0;
    for await (const _ of store.list('many/')) listed++;
    expect(listed).toBe(1001);

    await store.deletePrefix('many/');
    expect(await keysOf(store)).toEqual(['keep']);
  });
});

describe('S3Store on s3rver', () => {
  function store(prefix = `s3-${++serial}/`): S3Store {
    return new S3Store({ bucket: BUCKET, prefix }, { client: s3Client(), partSize: PART });
  }

  /** A store whose own s3rver client records the name of every command it sends. */
  function recordingStore(): { st: S3Store; commands: string[] } {
    const commands: string[] = [];
    const own = s3rverClient(s3?.endpoint ?? '');
    own.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize' },
    );
    return {
      st: new S3Store({ bucket: BUCKET, prefix: `s3-${++serial}/` }, { client: own, partSize: PART }),
      commands,
    };
  }

  it('streams a writer larger than a part as a multipart upload', async () => {
    const { st, commands } = recordingStore();
    const w = await st.openWriter('mp');
    await w.write(bytes(2 * PART + 10));
    await w.close();

    expect(commands.sort()).toEqual([
      'CompleteMultipartUploadCommand',
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
    ]);
    expect(await st.head('mp')).toEqual({ key: 'mp', size: 2 * PART + 10, etag: expect.any(String) });
  });

  it('aborts the multipart upload of an aborted writer, although s3rver refuses to', async () => {
    const { st, commands } = recordingStore();
    const w = await st.openWriter('mp');
    await w.write(bytes(PART + 10));
    await w.abort(); // s3rver answers AbortMultipartUpload with 405 MethodNotAllowed

    expect(commands).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'AbortMultipartUploadCommand',
    ]);
    expect(await keysOf(st)).toEqual([]);
  });

  it('wraps a missing key into a non-retryable FanoutError naming the object', async () => {
    const err = await store()
      .get('missing')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FanoutError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as FanoutError).message).toMatch(
      /GetObject s3:\/\/fanout-test\/s3-\d+\/missing failed: NoSuchKey/,
    );
  });

  it('wraps a missing bucket into a non-retryable FanoutError', async () => {
    const st = new S3Store('s3://no-such-bucket/x/', { client: s3Client() });
    const err = await keysOf(st).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FanoutError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as FanoutError).message).toContain('NoSuchBucket');
  });

  it('opens s3:// URLs through openStore, reaching the endpoint in AWS_ENDPOINT_URL_S3', async () => {
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL_S3: s3?.endpoint ?? '',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
    Object.assign(process.env, env);
    try {
      const st = openStore(`s3://${BUCKET}/via-env/`);
      expect(st.url).toBe(`s3://${BUCKET}/via-env/`);
      const w = await st.openWriter('k');
      await w.write(Buffer.from('streamed '));
      await w.write(Buffer.from('body'));
      await w.close();
      expect(Buffer.from(await st.get('k')).toString()).toBe('streamed body');
      expect(await keysOf(new S3Store(`s3://${BUCKET}/`, { client: s3Client() }), 'via-env/')).toEqual([
        'via-env/k',
      ]);
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('parseS3Url', () => {
  it.each([
    ['s3://bucket', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/a/b', { bucket: 'bucket', prefix: 'a/b/' }],
    ['s3://my.bucket-1/a/b/', { bucket: 'my.bucket-1', prefix: 'a/b/' }],
    ['s3://bucket/my%20data/', { bucket: 'bucket', prefix: 'my data/' }],
  ])('parses %s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it.each([
    ['https://bucket/x', /not an S3 URL/],
    ['s3:/bucket', /not an S3 URL/],
    ['s3://', /invalid S3 bucket name ""/],
    ['s3://Bucket/x', /invalid S3 bucket name "Bucket"/],
    ['s3://b/x', /invalid S3 bucket name "b"/],
    ['s3://bucket/x?versionId=1', /not an S3 URL/],
    ['s3://bucket/a/../b', /'\.\.' segment/],
  ])('rejects %s', (url, message) => {
    expect(() => parseS3Url(url)).toThrow(UsageError);
    expect(() => parseS3Url(url)).toThrow(message);
  });

  it('formats a store URL that reopens the same location', () => {
    const st = new S3Store({ bucket: 'bucket', prefix: 'a b/c+d/' }, { client: s3Client() });
    expect(parseS3Url(new URL(st.url).href)).toEqual({ bucket: 'bucket', prefix: 'a b/c+d/' });
  });

  it('rejects bad options with the value received', () => {
    expect(() => new S3Store('s3://bucket/', { partSize: 1024 })).toThrow(/partSize .* got 1024/);
    expect(() => new S3Store('s3://bucket/', { maxAttempts: 0 })).toThrow(/maxAttempts .* got 0/);
    expect(() => new S3Store('s3://bucket/', { expectedBucketOwner: 'me' })).toThrow(/account id, got me/);
  });
});

// ---- Stubbed HTTP: retry decisions, body resume and request headers, without any server. ----

describe('S3Store retries (stubbed HTTP)', () => {
  const clients: S3Client[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  it('retries 503 SlowDown with backoff and then succeeds', async () => {
    const { client, requests } = stubbedClient((_req, n) =>
      n <= 2 ? s3Error(503, 'SlowDown') : { statusCode: 200 },
    );
    clients.push(client);
    await new S3Store('s3://bucket/p/', { client }).put('k', 'v');
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.method === 'PUT' && r.path.endsWith('/p/k'))).toBe(true);
  });

  it('does not retry 403 AccessDenied, and reports it as not retryable', async () => {
    const { client, requests } = stubbedClient(() => s3Error(403, 'AccessDenied'));
    clients.push(client);
    const err = await new S3Store('s3://bucket/p/', { client }).put('k', 'v').catch((e: unknown) => e);
    expect(requests).toHaveLength(1);
    expect(err).toBeInstanceOf(FanoutError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toBe(
      'S3 PutObject s3://bucket/p/k failed: AccessDenied: AccessDenied from stub (HTTP 403)',
    );
  });

  it('reports a 500 that outlasts its attempts as retryable', async () => {
    const { client, requests } = stubbedClient(() => s3Error(500, 'InternalError'), 2);
    clients.push(client);
    const err = await new S3Store('s3://bucket/', { client }).delete('k').catch((e: unknown) => e);
    expect(requests).toHaveLength(2);
    expect(err).toMatchObject({ name: 'FanoutError', retryable: true });
  });

  it('resumes a GET body that breaks mid-stream from the last byte, pinned by ETag', async () => {
    const data = bytes(100);
    const { client, requests } = stubbedClient((req, n) => {
      if (n === 1) {
        const broken = new Readable({ read() {} });
        broken.push(data.subarray(0, 40));
        setImmediate(() =>
          broken.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
        );
        return { statusCode: 200, headers: { 'content-length': '100', etag: '"v1"' }, body: broken };
      }
      expect(req.headers.range).toBe('bytes=40-');
      expect(req.headers['if-match']).toBe('"v1"');
      return {
        statusCode: 206,
        headers: { 'content-length': '60', etag: '"v1"' },
        body: Readable.from([data.subarray(40)]),
      };
    });
    clients.push(client);
    const got = await new S3Store('s3://bucket/', { client }).get('k');
    expect(requests).toHaveLength(2);
    expect(Buffer.from(got).equals(data)).toBe(true);
  });

  it('pins the first GET of a listed object to its ETag, and reports 412 as the input changed', async () => {
    // s3rver ignores If-Match on GET, so S3's answer to a stale ETag is played by the stub.
    const { client, requests } = stubbedClient((req) =>
      req.method === 'HEAD'
        ? { statusCode: 200, headers: { 'content-length': '60', etag: '"v2"' } }
        : s3Error(412, 'PreconditionFailed'),
    );
    clients.push(client);
    const st = new S3Store('s3://bucket/in/', { client });
    const err = await collect(st.stream('big.txt', { start: 0, end: 50 }, { size: 100, etag: '"v1"' })).catch(
      (e: unknown) => e,
    );
    expect(requests[0]?.headers['if-match']).toBe('"v1"');
    expect(requests.map((r) => r.method)).toEqual(['GET', 'HEAD']);
    expect(err).toBeInstanceOf(InputChangedError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toBe(
      'input s3://bucket/in/big.txt changed while the job ran (planned 100 bytes, now 60): rerun once it is stable',
    );
  });

  it('reports a listed object deleted before its GET as the input gone', async () => {
    const { client, requests } = stubbedClient(() => s3Error(404, 'NoSuchKey'));
    clients.push(client);
    const err = await new S3Store('s3://bucket/', { client })
      .get('a.txt', undefined, { size: 10, etag: '"v1"' })
      .catch((e: unknown) => e);
    expect(requests).toHaveLength(1);
    expect(err).toBeInstanceOf(InputChangedError);
    expect((err as Error).message).toMatch(
      /^input s3:\/\/bucket\/a\.txt changed while the job ran \(planned 10 bytes, now gone\)/,
    );
  });

  it('sends the expected bucket owner and server-side encryption on writes and copies', async () => {
    const copyResult = '<CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>';
    const { client, requests } = stubbedClient((req) =>
      req.headers['x-amz-copy-source'] ? { statusCode: 200, body: copyResult } : { statusCode: 200 },
    );
    clients.push(client);
    const st = new S3Store('s3://bucket/', {
      client,
      expectedBucketOwner: '123456789012',
      sse: { kind: 'aws:kms', keyId: 'alias/fanout' },
    });
    await st.put('a', 'v');
    await st.rename('a', 'b c');
    const [put, copy, del] = requests;
    for (const r of [put, copy]) {
      expect(r?.headers).toMatchObject({
        'x-amz-expected-bucket-owner': '123456789012',
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': 'alias/fanout',
      });
    }
    expect(copy?.headers['x-amz-copy-source']).toBe('bucket/a');
    expect(copy?.headers['x-amz-source-expected-bucket-owner']).toBe('123456789012');
    expect(del?.method).toBe('DELETE');
    expect(del?.headers['x-amz-expected-bucket-owner']).toBe('123456789012');
  });
});
