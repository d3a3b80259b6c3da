import { UsageError } from '../errors.js';

/** Where an S3 store lives: a bucket and a key prefix that is empty or ends with `/`. */
export interface S3Location {
  bucket: string;
  /** `''` for the bucket's root, otherwise `/`-separated and ending with `/`. */
  prefix: string;
}

// S3's rules for new bucket names: 3 to 63 characters of lowercase letters, digits, dots and
// hyphens, starting and ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://bucket/prefix/` (the trailing slash is optional; the prefix is a folder either way).
 * Percent-escapes in the prefix are decoded, so a URL object's `href` parses to the same location.
 *
 * @example parseS3Url('s3://logs/2024/01') // { bucket: 'logs', prefix: '2024/01/' }
 * @throws {UsageError} when the text is not such a URL or names an invalid bucket.
 */
export function parseS3Url(text: string): S3Location {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(text);
  if (!m) {
    throw new UsageError(`not an S3 URL: ${JSON.stringify(text)} (expected s3://bucket/prefix/)`);
  }
  const bucket = m[1] ?? '';
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new UsageError(
      `invalid S3 bucket name ${JSON.stringify(bucket)} in ${text}: use 3-63 lowercase letters, digits, dots or hyphens`,
    );
  }
  let path: string;
  try {
    path = decodeURIComponent((m[2] ?? '').replace(/^\/+/, ''));
  } catch {
    throw new UsageError(`invalid percent-escape in S3 URL ${text}`);
  }
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new UsageError(`S3 URL ${text} has a '.' or '..' segment; S3 keys are not paths`);
  }
  return { bucket, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}

/** Formats a location as a URL that `parseS3Url` reads back to the same location. */
export function formatS3Url({ bucket, prefix }: S3Location): string {
  const path = prefix
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
  return `s3://${bucket}/${path}`;
}
