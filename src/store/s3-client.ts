import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** Attempts per request when the caller does not say. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * The S3Store's default client: the SDK's credential chain, region and retry strategy (standard
 * mode: capped exponential backoff with full jitter on throttling, 5xx and connection errors).
 * The SDK itself honours `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL`; when one is set this also
 * turns on path-style addressing and limits checksums to the operations that require them,
 * because emulators serve buckets only by path and s3rver stores aws-chunked framing as data.
 * (An `endpoint_url` in ~/.aws/config is honoured by the SDK but not seen here.)
 *
 * @example defaultS3Client(3, { requestHandler: stubHandler }) // a stubbed client for a test
 */
export function defaultS3Client(
  maxAttempts = DEFAULT_MAX_ATTEMPTS,
  config: S3ClientConfig = {},
  env: NodeJS.ProcessEnv = process.env,
): S3Client {
  const override =
    Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL) &&
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true';
  return new S3Client({
    maxAttempts,
    retryMode: 'standard',
    ...(override
      ? {
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
    ...config,
  });
}

let shared: S3Client | undefined;
let sharedRegion: string | undefined;

/** One default client per process: each client keeps its own connection pool. */
export function sharedS3Client(): S3Client {
  shared ??= defaultS3Client(
    DEFAULT_MAX_ATTEMPTS,
    sharedRegion === undefined ? {} : { region: sharedRegion },
  );
  return shared;
}

/**
 * Sets the region of the shared client that stores opened by URL use (`--region`), instead of the
 * SDK's chain; it is passed to the client, never written into the environment. Stores opened before
 * keep their client.
 */
export function useS3Region(region: string): void {
  if (region === sharedRegion) return;
  sharedRegion = region;
  shared = undefined;
}
