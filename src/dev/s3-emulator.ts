import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { resolveDevModule } from './dev-packages.js';
import { readReadyPortThenLines, runOnce, spawnEmulatorChild } from './emulator-child.js';

/** The fixed credentials s3rver accepts; the other emulators of the dev stack accept them too. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** How to start the S3 emulator. */
export interface S3EmulatorOptions {
  /** Buckets to create at start. @default [] */
  buckets?: readonly string[];
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Folder that holds the objects and is kept on stop. @default a fresh temporary folder, removed on stop */
  directory?: string;
}

/**
 * An object created in a bucket whose notification configuration enables EventBridge (an
 * `<EventBridgeConfiguration/>` element), as S3 reports it to EventBridge.
 */
export interface S3ObjectCreated {
  bucket: string;
  /** The key as stored, not URL-encoded. */
  key: string;
  size: number;
  /** The ETag without quotes; absent if the object was gone before it could be read. */
  etag?: string;
  /** Hexadecimal; grows with every event of this emulator, so later events of a key sort later. */
  sequencer: string;
  /** When it was created: ISO 8601 with milliseconds. */
  time: string;
  /** The API that created it, as in the `reason` of S3's EventBridge event. */
  reason: 'PutObject' | 'POST Object' | 'CopyObject' | 'CompleteMultipartUpload';
}

/** A running s3rver child process. */
export interface S3Emulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** An S3 client configured the way s3rver needs (path style, checksums only when required). */
  client(): S3Client;
  /**
   * Calls `listener` for every object created from now on in a bucket with EventBridge enabled in
   * its notification configuration (set with PutBucketNotificationConfiguration; kept in memory
   * only, so lost on stop). A listener that throws is reported as a process warning and does not
   * stop the others.
   */
  onObjectCreated(listener: (e: S3ObjectCreated) => void): void;
  /** Settles when the child exits, stopped or not. */
  exited: Promise<void>;
  /** Kills the child and removes a temporary data folder; safe to call twice. */
  stop(): Promise<void>;
}

// Runs in the child. argv: [s3rver module path, port, data directory, ...bucket names].
// The child exits when its stdin closes, so a crashed parent never leaves it behind. Its first
// stdout line is `{"port": N}`; every later line is `{"s3event": {...}}`, one object created in a
// bucket whose notification configuration enables EventBridge.
const CHILD = `
const { AsyncLocalStorage } = require('node:async_hooks');
const { dirname } = require('node:path');
const S3rver = require(process.argv[1]);
const xml = require(require.resolve('fast-xml-parser', { paths: [dirname(process.argv[1])] }));
const [port, directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1', port: Number(port), silent: true, directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const errorXml = (code, message, more = '') =>
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>' + code + '</Code><Message>' + message +
  '</Message>' + more + '</Error>';
const escapeXml = (s) => s.replace(/[<>&'"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
// s3rver ignores If-None-Match, so a conditional create (If-None-Match: *) is answered here as S3
// answers it: 412 when the key exists. Requests for one key are taken one at a time, so of two
// racing creates exactly one succeeds. (If-Match is still ignored.)
const busy = new Map();
const ifNoneMatch = async (ctx, next) => {
  if (ctx.method !== 'PUT' || ctx.get('if-none-match') !== '*') return next();
  const [bucket, ...rest] = ctx.path.slice(1).split('/');
  const key = decodeURIComponent(rest.join('/'));
  const id = bucket + '/' + key;
  const before = busy.get(id) ?? Promise.resolve();
  let release;
  const mine = new Promise((r) => { release = r; });
  const chained = before.then(() => mine);
  busy.set(id, chained);
  await before;
  try {
    if (await server.store.existsObject(bucket, key)) {
      ctx.status = 412;
      ctx.type = 'application/xml';
      ctx.body = errorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold',
        '<Condition>If-None-Match</Condition>');
      return;
    }
    await next();
  } finally {
    release();
    if (busy.get(id) === chained) busy.delete(id);
  }
};
// s3rver has no bucket notification configuration: GET and PUT /<bucket>?notification are answered
// here from memory, keeping the XML as put (S3 does not validate destinations here either, as with
// x-amz-skip-destination-validation). Deleting the bucket drops its configuration.
const notifications = new Map();
const EMPTY_NOTIFICATION = '<?xml version="1.0" encoding="UTF-8"?>\\n' +
  '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>';
const notification = async (ctx, next) => {
  const m = /^\\/([^/]+)\\/?$/.exec(ctx.path);
  if (m === null) return next();
  const bucket = decodeURIComponent(m[1]);
  if (!('notification' in ctx.query)) {
    if (ctx.method !== 'DELETE' || Object.keys(ctx.query).length > 0) return next();
    await next();
    if (ctx.status === 204) notifications.delete(bucket);
    return;
  }
  if (ctx.method !== 'GET' && ctx.method !== 'PUT') return next();
  ctx.type = 'application/xml';
  if (!(await server.store.getBucket(bucket))) {
    ctx.status = 404;
    ctx.body = errorXml('NoSuchBucket', 'The specified bucket does not exist',
      '<BucketName>' + escapeXml(bucket) + '</BucketName>');
    return;
  }
  if (ctx.method === 'GET') {
    ctx.status = 200;
    ctx.body = notifications.get(bucket)?.xml ?? EMPTY_NOTIFICATION;
    return;
  }
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString('utf8');
  let root;
  try {
    if (xml.validate(body) === true) root = xml.parse(body).NotificationConfiguration;
  } catch {
    root = undefined;
  }
  if (root === undefined) {
    ctx.status = 400;
    ctx.body = errorXml('MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema');
    return;
  }
  const eventBridge = typeof root === 'object' && root !== null && 'EventBridgeConfiguration' in root;
  notifications.set(bucket, { xml: body, eventBridge });
  ctx.status = 200;
  ctx.body = '';
};
// Which request an object-created event of s3rver belongs to (it emits them mid-request).
const requests = new AsyncLocalStorage();
const remember = (ctx, next) => requests.run(ctx, next);
server.middleware.unshift(remember, notification, ifNoneMatch);
// s3rver's sequencer is the time in ms, equal for events of one ms; this one grows with every event.
let sequence = 0n;
const nextSequencer = () => {
  const now = BigInt(Date.now()) << 16n;
  sequence = sequence < now ? now : sequence + 1n;
  return sequence.toString(16).toUpperCase().padStart(16, '0');
};
let written = Promise.resolve();
server.on('event', (event) => {
  const record = event && event.Records && event.Records[0];
  if (!record || typeof record.eventName !== 'string' || !record.eventName.startsWith('ObjectCreated:')) return;
  const bucket = record.s3.bucket.name;
  if (!notifications.get(bucket)?.eventBridge) return;
  const ctx = requests.getStore();
  const object = record.s3.object;
  const reason =
    record.eventName === 'ObjectCreated:Copy' ? 'CopyObject'
    : record.eventName === 'ObjectCreated:Put' ? 'PutObject'
    : ctx && ctx.query && 'uploadId' in ctx.query ? 'CompleteMultipartUpload'
    : 'POST Object';
  const base = { bucket, key: object.key, size: object.size, sequencer: nextSequencer(), time: record.eventTime, reason };
  written = written.then(async () => {
    let etag = object.eTag;
    if (etag === undefined) {
      // A copy's record has no ETag: it is the stored object's.
      try {
        etag = JSON.parse((await server.store.getMetadata(bucket, object.key)).etag);
      } catch {
        etag = undefined;
      }
    }
    process.stdout.write(JSON.stringify({ s3event: { ...base, etag } }) + '\\n');
  });
});
server.run().then(
  (addr) => process.stdout.write(JSON.stringify({ port: addr.port }) + '\\n'),
  (err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1); },
);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * Starts s3rver on loopback in a child process. The child runs with `--openssl-legacy-provider`
 * because s3rver's continuation tokens use DES, which OpenSSL 3 only offers through the legacy
 * provider; its environment is scrubbed so no real AWS settings reach it.
 * @throws {UsageError} when s3rver is not installed.
 */
export async function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const modulePath = resolveDevModule('s3rver');
  const kept = options.directory !== undefined;
  const directory = kept ? resolve(options.directory ?? '.') : mkdtempSync(join(tmpdir(), 'fanout-s3rver-'));
  if (kept) mkdirSync(directory, { recursive: true });
  const child = spawnEmulatorChild(
    [
      '--openssl-legacy-provider',
      '-e',
      CHILD,
      modulePath,
      String(options.port ?? 0),
      directory,
      ...(options.buckets ?? []),
    ],
    { env: { PATH: process.env.PATH ?? '' } },
  );
  const stop = runOnce(async () => {
    await child.kill();
    if (!kept) rmSync(directory, { recursive: true, force: true });
  });
  const listeners: ((e: S3ObjectCreated) => void)[] = [];
  const onLine = (line: string): void => {
    const e = readObjectCreated(line);
    if (e === undefined) return;
    for (const listener of listeners) {
      try {
        listener(e);
      } catch (err) {
        process.emitWarning(err instanceof Error ? err : new Error(String(err)));
      }
    }
  };
  try {
    const port = await readReadyPortThenLines(child, 's3rver', 15_000, onLine);
    const endpoint = `http://127.0.0.1:${port}`;
    return {
      endpoint,
      client: () => s3EmulatorClient(endpoint),
      onObjectCreated: (listener) => {
        listeners.push(listener);
      },
      exited: child.exited,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const REASONS: ReadonlySet<string> = new Set<S3ObjectCreated['reason']>([
  'PutObject',
  'POST Object',
  'CopyObject',
  'CompleteMultipartUpload',
]);

/** The event in a `{"s3event": ...}` line of the child; undefined for any other line. */
function readObjectCreated(line: string): S3ObjectCreated | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const e = (parsed as { s3event?: Record<string, unknown> } | null)?.s3event;
  if (typeof e !== 'object' || e === null) return undefined;
  const { bucket, key, size, etag, sequencer, time, reason } = e;
  if (
    typeof bucket !== 'string' ||
    typeof key !== 'string' ||
    typeof size !== 'number' ||
    typeof sequencer !== 'string' ||
    typeof time !== 'string' ||
    typeof reason !== 'string' ||
    !REASONS.has(reason)
  ) {
    return undefined;
  }
  return {
    bucket,
    key,
    size,
    ...(typeof etag === 'string' ? { etag } : {}),
    sequencer,
    time,
    reason: reason as S3ObjectCreated['reason'],
  };
}

/** An S3 client for s3rver at `endpoint`. */
export function s3EmulatorClient(endpoint: string, maxAttempts = 3): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts,
    // With the SDK's default checksums, streamed bodies are sent aws-chunked and s3rver stores
    // the chunk framing as if it were data.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
