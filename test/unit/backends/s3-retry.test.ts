import { describe, expect, it } from 'vitest';
import { FanoutError, ThrottledError } from '../../../src/errors.js';
import { toS3StoreError } from '../../../src/store/s3-retry.js';

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(`${name} message`), { name, Code: name, $metadata: { httpStatusCode: status } });

describe('toS3StoreError', () => {
  it('turns throttling that outlasted the SDK retries into a retryable ThrottledError', () => {
    const e = toS3StoreError(sdkError('SlowDown', 503), 'PutObject', 's3://b/k');
    expect(e).toBeInstanceOf(ThrottledError);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/^S3 PutObject s3:\/\/b\/k failed: SlowDown/);
  });

  it('keeps other failures plain, retryable only when another try may help', () => {
    const server = toS3StoreError(sdkError('InternalError', 500), 'GetObject', 's3://b/k');
    expect(server).not.toBeInstanceOf(ThrottledError);
    expect(server.retryable).toBe(true);
    const denied = toS3StoreError(sdkError('AccessDenied', 403), 'GetObject', 's3://b/k');
    expect(denied).toBeInstanceOf(FanoutError);
    expect(denied.retryable).toBe(false);
  });
});
