import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3Client } from '@aws-sdk/client-s3';

// The SDK warns once per process that its 2027 releases will need Node 22; tests need not say so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The fixed credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A running s3rver child process. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** An S3 client configured the way s3rver needs (path style, checksums only when required). */
  client(): S3Client;
  /** Kills the child and removes its data directory; safe to call twice. */
  stop(): Promise<void>;
}

// Runs in the child. argv: [s3rver module path, data directory, ...bucket names].
// The child exits when its stdin closes, so a crashed test worker never leaves it behind.
const CHILD = `
const S3rver = require(process.argv[1]);
const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
server.run().then(
  (addr) => process.stdout.write(JSON.stringify({ port: addr.port }) + '\\n'),
  (err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1); },
);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * Starts s3rver on a free loopback port in a child process with a fresh data directory and the
 * given buckets. The child runs with `--openssl-legacy-provider` because s3rver's continuation
 * tokens use DES, which OpenSSL 3 only offers through the legacy provider.
 */
export async function startS3rver(buckets: string[]): Promise<S3rverHandle> {
  const directory = mkdtempSync(join(tmpdir(), 'fanout-s3rver-'));
  const modulePath = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD, modulePath, directory, ...buckets],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const stop = once(async () => {
    await killChild(child);
    rmSync(directory, { recursive: true, force: true });
  });
  try {
    const port = await readPort(child, () => stderr);
    const endpoint = `http://127.0.0.1:${port}`;
    return { endpoint, client: () => s3rverClient(endpoint), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** An S3 client for s3rver at `endpoint`. */
export function s3rverClient(endpoint: string, maxAttempts = 3): S3Client {
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

function readPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('s3rver did not start within 15 s')), 15_000);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      lines.close();
      reject(err);
    };
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === 'number') resolve(port);
      else reject(new Error(`s3rver printed no port: ${line}`));
    });
    child.once('exit', (code) => fail(new Error(`s3rver exited with ${code} before starting: ${stderr()}`)));
    child.once('error', fail);
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}
