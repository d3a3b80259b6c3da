import { FanoutError, ThrottledError } from '../errors.js';

// Request-level retries are the SDK's (standard mode: capped exponential backoff with full jitter
// on throttling, 5xx and connection errors). This file classifies what is left over once the
// SDK has given up, and paces the retries the SDK cannot make: a GET body that breaks mid-stream.

const THROTTLING = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'BandwidthLimitExceeded',
]);
const TRANSIENT = new Set([
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
  'OperationAborted',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** The fields of an SDK or Node error that decide whether to retry. */
interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function shape(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : {};
}

/** HTTP status of an SDK error, when it carries one. */
export function statusOf(err: unknown): number | undefined {
  const status = shape(err).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The S3 error code (`NoSuchKey`, `SlowDown`) or Node error code (`ECONNRESET`) of an error. */
export function codeOf(err: unknown): string {
  const e = shape(err);
  if (typeof e.code === 'string') return e.code;
  return typeof e.name === 'string' ? e.name : 'Error';
}

/**
 * Whether another attempt may succeed: throttling, 5xx and network failures are; access, missing
 * bucket or key and bad requests are not.
 */
export function isRetryableS3Error(err: unknown, depth = 0): boolean {
  const code = codeOf(err);
  const status = statusOf(err);
  if (THROTTLING.has(code) || TRANSIENT.has(code) || NETWORK.has(code)) return true;
  if (status !== undefined) return status === 429 || status >= 500;
  const cause = shape(err).cause;
  return cause !== undefined && depth < 5 && isRetryableS3Error(cause, depth + 1);
}

/**
 * Wraps an SDK error into a FanoutError that names the operation and object (never credentials).
 *
 * @example toS3StoreError(err, 'GetObject', 's3://bucket/data/a.txt')
 */
export function toS3StoreError(err: unknown, operation: string, target: string): FanoutError {
  if (err instanceof FanoutError) return err;
  const status = statusOf(err);
  const message = shape(err).message;
  const detail = typeof message === 'string' && message !== '' && message !== 'UnknownError' ? message : '';
  const text = `S3 ${operation} ${target} failed: ${codeOf(err)}${detail ? `: ${detail}` : ''}${status ? ` (HTTP ${status})` : ''}`;
  // Throttling that outlasted the SDK's retries tells the driver to run fewer tasks at once.
  const Type = THROTTLING.has(codeOf(err)) || status === 429 ? ThrottledError : FanoutError;
  return new Type(text, { cause: err, retryable: isRetryableS3Error(err) });
}
