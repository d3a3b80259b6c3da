import type { S3Client } from '@aws-sdk/client-s3';
import {
  type S3Emulator,
  S3RVER_CREDENTIALS,
  s3EmulatorClient,
  startS3Emulator,
} from '../../src/dev/s3-emulator.js';

// The SDK warns once per process that its 2027 releases will need Node 22; tests need not say so.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export { S3RVER_CREDENTIALS };

/** A running s3rver child process (see `startS3Emulator` in src/dev). */
export type S3rverHandle = S3Emulator;

/** Starts s3rver on a free loopback port with a fresh data directory and the given buckets. */
export function startS3rver(buckets: string[]): Promise<S3rverHandle> {
  return startS3Emulator({ buckets });
}

/** An S3 client for s3rver at `endpoint`. */
export function s3rverClient(endpoint: string, maxAttempts = 3): S3Client {
  return s3EmulatorClient(endpoint, maxAttempts);
}
