import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { resolveDevModule } from './dev-packages.js';
import { readReadyPort, runOnce, spawnEmulatorChild } from './emulator-child.js';

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

/** A running s3rver child process. */
export interface S3Emulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** An S3 client configured the way s3rver needs (path style, checksums only when required). */
  client(): S3Client;
  /** Settles when the child exits, stopped or not. */
  exited: Promise<void>;
  /** Kills the child and removes a temporary data folder; safe to call twice. */
  stop(): Promise<void>;
}

// Runs in the child. argv: [s3rver module path, port, data directory, ...bucket names].
// The child exits when its stdin closes, so a crashed parent never leaves it behind.
const CHILD = `
const S3rver = require(process.argv[1]);
const [port, directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1', port: Number(port), silent: true, directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
// s3rver ignores If-None-Match, so a conditional create (If-None-Match: *) is answered here as S3
// answers it: 412 when the key exists. Requests for one key are taken one at a time, so of two
// racing creates exactly one succeeds. (If-Match is still ignored.)
const busy = new Map();
server.middleware.unshift(async (ctx, next) => {
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
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>' +
        '<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';
      return;
    }
    await next();
  } finally {
    release();
    if (busy.get(id) === chained) busy.delete(id);
  }
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
  try {
    const port = await readReadyPort(child, 's3rver', 15_000);
    const endpoint = `http://127.0.0.1:${port}`;
    return { endpoint, client: () => s3EmulatorClient(endpoint), exited: child.exited, stop };
  } catch (err) {
    await stop();
    throw err;
  }
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
