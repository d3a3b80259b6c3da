import { describe, expect, it } from 'vitest';
import { StreamFailedError } from '../../../../src/errors.js';
import { kinesisError } from '../../../../src/stream/consumer/kinesis-errors.js';

const sdkError = (name: string, message = 'm') => Object.assign(new Error(message), { name });

describe('kinesisError', () => {
  it.each([
    'InvalidArgumentException',
    'AccessDeniedException',
    'ResourceNotFoundException',
    'KMSDisabledException',
  ])('turns %s into a StreamFailedError naming stream and shard', (name) => {
    const e = kinesisError(sdkError(name, 'it is wrong'), 'clicks', 'shardId-000000000003');
    expect(e).toBeInstanceOf(StreamFailedError);
    expect((e as StreamFailedError).message).toBe(
      `stream clicks, shard shardId-000000000003: ${name}: it is wrong`,
    );
    expect((e as StreamFailedError).retryable).toBe(false);
    expect((e as StreamFailedError).context.shardId).toBe('shardId-000000000003');
  });

  it('names only the stream for a call about the whole stream', () => {
    expect((kinesisError(sdkError('AccessDeniedException'), 'clicks') as Error).message).toBe(
      'stream clicks: AccessDeniedException: m',
    );
  });

  it.each(['ProvisionedThroughputExceededException', 'LimitExceededException', 'InternalFailure', 'Error'])(
    'leaves %s to be retried',
    (name) => {
      const err = sdkError(name);
      expect(kinesisError(err, 'clicks', 's')).toBe(err);
    },
  );
});
