import { StreamFailedError } from '../../errors.js';

/**
 * Kinesis (and SDK) error names that no retry can fix: the request itself is wrong (a sequence
 * number of another stream), the caller may not make it, or what it names is gone. Retrying them
 * only repeats the error until the run's end; throttling, expired iterators, 5xx and dropped
 * connections are not here and are retried.
 */
const UNRECOVERABLE = new Set([
  'InvalidArgumentException',
  'ValidationException',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
]);

/** True for an error retrying cannot fix (see UNRECOVERABLE). */
export function isUnrecoverable(err: unknown): boolean {
  return err instanceof Error && UNRECOVERABLE.has(err.name);
}

/**
 * An error of a Kinesis call as the consumer reports it: an unrecoverable one becomes a
 * StreamFailedError naming the stream and, when there is one, the shard; any other is left as it is.
 */
export function kinesisError(err: unknown, stream: string, shardId?: string): unknown {
  if (!isUnrecoverable(err)) return err;
  const e = err as Error;
  const where = shardId === undefined ? `stream ${stream}` : `stream ${stream}, shard ${shardId}`;
  return new StreamFailedError(`${where}: ${e.name}: ${e.message}`, {
    cause: err,
    ...(shardId !== undefined && { context: { shardId } }),
  });
}
