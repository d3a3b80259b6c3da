import { describe, expect, it } from 'vitest';
import { sum } from '../../../src/index.js';
import { type CombineFn, createKeyGroups } from '../../../src/shuffle/key-groups.js';

/** Each key's folded value, as the groups hold it. */
function folded(values: [unknown, unknown][], combine: CombineFn) {
  const g = createKeyGroups(combine);
  for (const [k, v] of values) g.add(k, v);
  return new Map([...g.entries()].map(([k, vs]) => [k, vs[0]]));
}

describe('key groups with the built-in sum', () => {
  it('fold each value in as calling sum would, whatever the values are', () => {
    const values: [unknown, unknown][] = [
      ['a', 0.1],
      ['a', 0.2],
      ['a', 1e300],
      ['a', -1e300],
      ['neg-zero', -0],
      ['neg-zero', -0],
      ['text', 'x'],
      ['text', 2],
      ['mixed', 1],
      ['mixed', '1'],
      [7, 1.5],
      [7, 2.25],
      ['nan', Number.NaN],
      ['nan', 1],
    ];
    // The same fold through a combine that is not the built-in: sum's own code, called per value.
    const called = folded(values, (k, vs) => sum(k, vs as number[]));
    const inline = folded(values, sum as CombineFn);
    expect(inline).toEqual(called);
    // sum adds to 0, so two negative zeros fold to +0, and a string joins on: as the call gives.
    expect(Object.is(inline.get('neg-zero'), 0)).toBe(true);
    expect(inline.get('text')).toBe('0x2');
    expect(inline.get('mixed')).toBe('11');
    expect(inline.get(7)).toBe(3.75);
  });
});
