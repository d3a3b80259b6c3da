import { UserCodeError } from '../errors.js';
import { nonJsonKind } from '../shuffle/json-text.js';

/**
 * Refuses a key `emit` cannot group or write: undefined, a function, a symbol, a BigInt, or a number
 * that is not finite. JSON has no form for NaN or ±Infinity (JSON.stringify writes null), so such a
 * key would come out as `null`, a different key from the one emitted; the other types have no JSON
 * at all. Called only for keys that are not strings, so the common emit costs one typeof. The error
 * is not retryable: the same code emits the same key again. Objects and arrays are checked where
 * they are serialised (see jsonText).
 */
export function checkKey(where: string, key: unknown): void {
  switch (typeof key) {
    case 'number':
      if (!Number.isFinite(key)) {
        throw new UserCodeError(
          `${where} emitted a key that is not a finite number (${key}): keys must be JSON values`,
          { retryable: false },
        );
      }
      return;
    case 'boolean':
    case 'object':
      return;
    default:
      throw notJsonType(where, 'key', key);
  }
}

/**
 * Refuses a value JSON has no form for: a function, a symbol, a BigInt, and undefined unless
 * `undefinedOk` (a part file writes it as null). Called only for values that are not numbers; a
 * number that is not finite is written as null, as JSON.stringify writes it.
 */
export function checkValue(where: string, value: unknown, undefinedOk = false): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'object':
    case 'number':
      return;
    case 'undefined':
      if (undefinedOk) return;
  }
  throw notJsonType(where, 'value', value);
}

function notJsonType(where: string, what: 'key' | 'value', v: unknown): UserCodeError {
  return new UserCodeError(`${where} emitted ${nonJsonKind(what, v)}`, { retryable: false });
}
