import { type ErrorContext, FanoutError, ThrottledError } from '../errors.js';

/** Lambda client errors that say "not now" rather than "never": the function is being updated or started. */
const TRANSIENT_CLIENT_ERRORS = new Set(['ResourceConflictException', 'ResourceNotReadyException']);

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  Reason?: unknown;
  retryAfterSeconds?: unknown;
}

/**
 * Turns an error from sending an Invoke request (the function never answered) into a FanoutError:
 * a 429 becomes `ThrottledError` so the scheduler can lower concurrency; a server fault or a lost
 * connection is retryable; any other client fault (no such function, access denied, bad request)
 * is not, as another attempt would get the same answer. Only the SDK's message is kept, never the
 * request, so nothing about credentials reaches logs.
 */
export function lambdaSendError(
  err: unknown,
  functionName: string,
  where: string,
  context: ErrorContext,
): FanoutError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = e.$metadata?.httpStatusCode;
  if (name === 'TooManyRequestsException' || status === 429) {
    const reason = typeof e.Reason === 'string' ? ` (${e.Reason})` : '';
    const after = typeof e.retryAfterSeconds === 'string' ? `, retry after ${e.retryAfterSeconds} s` : '';
    return new ThrottledError(`Lambda ${functionName} throttled ${where}${reason}${after}: ${message}`, {
      retryable: true,
      context,
      cause: err,
    });
  }
  // No HTTP status means no answer (a reset or refused connection), unless no credentials were found.
  const retryable =
    e.$fault === 'server' ||
    TRANSIENT_CLIENT_ERRORS.has(name) ||
    (typeof status !== 'number' && name !== 'CredentialsProviderError');
  return new FanoutError(`cannot invoke Lambda ${functionName} for ${where}: ${name}: ${message}`, {
    retryable,
    context,
    cause: err,
  });
}
