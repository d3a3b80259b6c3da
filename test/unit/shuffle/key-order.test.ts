import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a, fnv1aBytes } from '../../../src/shuffle/hash.js';
import { compareKeys, hashPartition } from '../../../src/shuffle/key-order.js';
import { anyKey, groupOf } from '../../helpers/keys.js';

describe('hashPartition', () => {
  it('always lands in [0, n) and is stable', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const p = hashPartition(key, n);
        expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
        expect(hashPartition(JSON.parse(JSON.stringify(key)), n)).toBe(hashPartition(key, n));
      }),
    );
  });

  it('spreads words roughly evenly', () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 80_000; i++) {
      const p = hashPartition(`word${i}`, 8);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    expect(counts.size).toBe(8);
    for (const c of counts.values()) expect(c).toBeGreaterThan(8_000);
  });
});

describe('fnv1aBytes', () => {
  it('hashes ASCII bytes as fnv1a hashes the string they spell', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) }),
        (s) => {
          const b = Buffer.from(`<${s}>`, 'latin1');
          expect(fnv1aBytes(b, 1, b.length - 1)).toBe(fnv1a(s));
        },
      ),
    );
  });
});

describe('compareKeys', () => {
  it('orders by type, then value', () => {
    const keys = ['b', 2, null, { a: 1 }, 'a', true, 1, false, [0]];
    expect([...keys].sort(compareKeys)).toEqual([null, false, true, 1, 2, 'a', 'b', [0], { a: 1 }]);
  });

  it('is a total order consistent with equality of JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const c = compareKeys(a, b);
        expect(Math.sign(compareKeys(b, a))).toBe(-Math.sign(c) || 0);
        if (c === 0) expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
    );
  });

  it('puts NaN after every other number, equal only to NaN, and -0 equal to 0', () => {
    const keys = [Number.NaN, 1, Number.POSITIVE_INFINITY, -0, Number.NaN, Number.NEGATIVE_INFINITY, 0];
    expect([...keys].sort(compareKeys)).toEqual([
      Number.NEGATIVE_INFINITY,
      -0,
      0,
      1,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      Number.NaN,
    ]);
    expect(compareKeys(Number.NaN, 0)).toBeGreaterThan(0);
    expect(compareKeys(0, Number.NaN)).toBeLessThan(0);
    expect(compareKeys(Number.NaN, Number.NaN)).toBe(0);
    expect(compareKeys(-0, 0)).toBe(0);
  });

  it('is a total order on mixed keys, equal exactly when keys group together', () => {
    fc.assert(
      fc.property(anyKey, anyKey, anyKey, (a, b, c) => {
        const ab = Math.sign(compareKeys(a, b));
        const bc = Math.sign(compareKeys(b, c));
        const ac = Math.sign(compareKeys(a, c));
        // Antisymmetric, and equal exactly when the oracle groups the two keys together.
        expect(Math.sign(compareKeys(b, a))).toBe(-ab || 0);
        expect(ab === 0).toBe(groupOf(a) === groupOf(b));
        // Transitive, for < and for =.
        if (ab <= 0 && bc <= 0) expect(ac).toBeLessThanOrEqual(0);
        if (ab === 0 && bc === 0) expect(ac).toBe(0);
        if (ab < 0 && bc <= 0) expect(ac).toBe(-1);
      }),
      { numRuns: 2000 },
    );
  });
});
