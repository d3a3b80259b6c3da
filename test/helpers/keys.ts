/**
 * Keys of every kind `emit` takes, and an oracle of which keys group together written without the
 * engine's code: primitives by value (-0 with 0, NaN with NaN), objects and arrays by JSON text.
 */
import fc from 'fast-check';

/** Scalars that collide often: empty and non-ASCII strings, small integers, -0, floats. */
const scalar = fc.oneof(
  fc.constantFrom('', 'a', 'b', 'é', '日本', '🎉', '0', 'null', 'true'),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
  fc.integer({ min: -3, max: 3 }),
  fc.integer(),
  fc.constantFrom(-0, 0.5, -1.25, 1e21, 5e-324, 2 ** 31, -(2 ** 31) - 1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

/** A key `emit` accepts: a scalar, or a small array or object of scalars. */
export const jsonKey: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'b', 'é'), scalar, { maxKeys: 2 }) },
);

/** Any key a merge might meet, NaN and the infinities too (emit refuses those). */
export const anyKey: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: jsonKey },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
);

/** What identifies a key's group: equal exactly for keys that must group together. */
export function groupOf(key: unknown): string {
  if (typeof key === 'number') return Number.isNaN(key) ? 'NaN' : `number ${String(key)}`; // String(-0) is "0"
  if (typeof key === 'string') return `string ${key}`;
  if (typeof key === 'boolean' || key === null) return String(key);
  return `json ${JSON.stringify(key)}`;
}
