import { NotJsonError } from '../errors.js';

/**
 * The JSON text of an emitted object or array. A value JSON.stringify cannot write (circular, holding
 * a BigInt, a toJSON that throws or gives nothing) is a NotJsonError saying why, in place of the
 * TypeError or stack overflow, which read as a fault of the engine and were retried.
 */
export function jsonText(v: unknown, what: 'key' | 'value'): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    throw notJson(what, reasonOf(err));
  }
  if (text === undefined) throw notJson(what, 'JSON.stringify gives nothing for it');
  return text;
}

/** The error for an emitted key or value JSON cannot write; the task prefixes who emitted it. */
export function notJson(what: 'key' | 'value', reason: string): NotJsonError {
  return new NotJsonError(`emitted a ${what} that cannot be written as JSON (${reason})`, {
    retryable: false,
  });
}

/** What a key or value of a type JSON has no form for is, in a message: `a value of type function`. */
export function nonJsonKind(what: 'key' | 'value', v: unknown): string {
  return `${v === undefined ? `an undefined ${what}` : `a ${what} of type ${typeof v}`}; keys and values must be JSON values`;
}

function reasonOf(err: unknown): string {
  if (err instanceof RangeError) return 'nested too deeply';
  const message = err instanceof Error ? err.message : String(err);
  if (/circular/i.test(message)) return 'circular structure';
  if (/BigInt/.test(message)) return 'it holds a BigInt';
  return message.split('\n', 1)[0] ?? message;
}
