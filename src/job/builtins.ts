/**
 * Built-in job functions. Each is an ordinary function that works anywhere a job's own would, and
 * carries a tag the engine recognises to run it over bytes, with the same output:
 * - a stage whose map is `countTokens` and whose combine is `sum` counts the tokens of its text input
 *   without a call per line (see mapper/token-count.ts);
 * - a stage whose combine is `sum` adds string keys' values by their bytes on the reduce side (see
 *   reducer/key-sums.ts), and with `emitSum` as its reduce writes the part file from those bytes;
 * - a stage that sorts its keys (`sortKeys`) without a combiner, with `emitEach` as its reduce, writes
 *   its part files from the shuffle's bytes, never decoding a value (see reducer/sorted-holder.ts).
 */
import type { Emit } from './types.js';

const BUILTIN = Symbol.for('fanout.builtin');

type Builtin = 'count-tokens' | 'sum' | 'emit-sum' | 'emit-each';

function tag<F extends object>(fn: F, name: Builtin): F {
  Object.defineProperty(fn, BUILTIN, { value: name });
  return fn;
}

/** Which built-in `fn` is, if any. */
export function builtinOf(fn: unknown): Builtin | undefined {
  return typeof fn === 'function' ? (fn as { [BUILTIN]?: Builtin })[BUILTIN] : undefined;
}

/**
 * A map over text lines: emits `(token, 1)` for every whitespace-separated token, exactly as
 * `line.split(/\s+/)` cuts it (no case folding, punctuation kept).
 */
export const countTokens = tag((line: string, emit: Emit<string, number>): void => {
  for (const token of line.split(/\s+/)) if (token) emit(token, 1);
}, 'count-tokens');

/** A combine that adds the values. */
export const sum = tag((_key: unknown, values: number[]): number => {
  let total = 0;
  for (const v of values) total += v;
  return total;
}, 'sum');

/** A reduce that emits each key with the sum of its values. */
export const emitSum: <K>(key: K, values: Iterable<number>, emit: Emit<K, number>) => void = tag(
  <K>(key: K, values: Iterable<number>, emit: Emit<K, number>): void => {
    let total = 0;
    for (const v of values) total += v;
    emit(key, total);
  },
  'emit-sum',
);

/** A reduce that emits every value of a key under that key, in the order they come: an identity. */
export const emitEach: <K, V>(key: K, values: Iterable<V>, emit: Emit<K, V>) => void = tag(
  <K, V>(key: K, values: Iterable<V>, emit: Emit<K, V>): void => {
    for (const v of values) emit(key, v);
  },
  'emit-each',
);
