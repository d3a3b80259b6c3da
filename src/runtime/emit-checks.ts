import { UserCodeError } from '../errors.js';

/**
 * Refuses a key `emit` cannot group or write: undefined, or a number that is not finite. JSON has no
 * form for NaN or ±Infinity (JSON.stringify writes null), so such a key would come out as `null`,
 * a different key from the one emitted. Called only for keys that are not strings, so the common
 * emit costs one typeof. The error is not retryable: the same code emits the same key again.
 */
export function checkKey(where: string, key: unknown): void {
  if (typeof key === 'number') {
    if (!Number.isFinite(key)) {
      throw new UserCodeError(
        `${where} emitted a key that is not a finite number (${key}): keys must be JSON values`,
        { retryable: false },
      );
    }
  } else if (key === undefined) {
    throw new UserCodeError(`${where} emitted an undefined key`, { retryable: false });
  }
}
