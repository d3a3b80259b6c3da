import { FanoutError, UserCodeError } from '../errors.js';

/** Wraps an error thrown by job code so its message says where it came from; keeps the cause. */
export function userCodeError(where: string, err: unknown): FanoutError {
  if (err instanceof FanoutError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = new UserCodeError(`${where} threw: ${message}`, { cause: err, retryable: true });
  if (err instanceof Error && err.stack) wrapped.stack = err.stack;
  return wrapped;
}

/** True for a promise-like result; lets sync job code run without an await per record. */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
