import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringTable } from '../../../src/shuffle/string-table.js';

/** Adds `value` to the key's sum, as a combiner would. */
function addTo(table: StringTable<number>, key: string, value: number): void {
  const i = table.findOrAdd(key, value);
  if (i >= 0) table.values[i] = (table.values[i] as number) + value;
}

const contents = (table: StringTable<number>) => new Map(table.keys.map((k, i) => [k, table.values[i]]));

describe('StringTable', () => {
  it('behaves like a Map through growth and clear, for packed and long keys alike', () => {
    // Short strings of few characters collide on their packed words often; longer ones take the arena.
    const key = fc.oneof(
      fc.string({ maxLength: 9 }),
      fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\u00ff', '\u0100', '\ud83c'), maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.integer()), { maxLength: 3000 }), (ops) => {
        const table = new StringTable<number>();
        const oracle = new Map<string, number>();
        for (const [k, v] of ops) {
          addTo(table, k, v);
          oracle.set(k, (oracle.get(k) ?? 0) + v);
        }
        expect(contents(table)).toEqual(oracle);
        table.clear();
        expect(table.size).toBe(0);
        expect(table.findOrAdd('a', 1)).toBe(~0);
      }),
      { numRuns: 50 },
    );
  });

  it('returns a new key as ~index and the same index on every later lookup', () => {
    const table = new StringTable<string>();
    expect(table.findOrAdd('first', 'one')).toBe(~0);
    expect(table.findOrAdd('a much longer second key', 'two')).toBe(~1);
    expect(table.findOrAdd('first', 'ignored')).toBe(0);
    expect(table.findOrAdd('a much longer second key', 'ignored')).toBe(1);
    expect(table.values).toEqual(['one', 'two']);
    expect(table.keys).toEqual(['first', 'a much longer second key']);
  });

  it('tells apart long keys whose 32-bit hashes collide by comparing their characters', () => {
    // FNV-1a collisions: declinate/macallums, altarages/zinkes; costarring/liquid (one packed, one long).
    const table = new StringTable<number>();
    for (const k of ['declinate', 'macallums', 'altarages', 'zinkes', 'costarring', 'liquid'])
      addTo(table, k, 1);
    addTo(table, 'macallums', 1);
    expect(contents(table)).toEqual(
      new Map([
        ['declinate', 1],
        ['macallums', 2],
        ['altarages', 1],
        ['zinkes', 1],
        ['costarring', 1],
        ['liquid', 1],
      ]),
    );
  });

  it('keeps keys that differ only in length, a NUL, or a character past Latin-1 apart', () => {
    const keys = [
      '',
      '\u0000',
      '\u0000\u0000',
      'a',
      'a\u0000',
      'abcdefgh',
      'abcdefghi',
      'abcdefg\u0100',
      'é',
      'e\u0301',
      '𝄞',
    ];
    const table = new StringTable<number>();
    keys.forEach((k, i) => {
      expect(table.findOrAdd(k, i)).toBe(~i);
    });
    keys.forEach((k, i) => {
      expect(table.values[table.findOrAdd(k, -1)]).toBe(i);
    });
    expect(table.size).toBe(keys.length);
  });

  it('keeps keys longer than its arena', () => {
    const table = new StringTable<number>();
    const long = 'x'.repeat(200_000);
    const keys = [long, `${long}y`, long.slice(1), 'short'];
    for (const k of keys) addTo(table, k, 1);
    for (const k of keys) addTo(table, k, 1);
    expect([...contents(table).values()]).toEqual([2, 2, 2, 2]);
    expect(table.findOrAdd(`${long}z`, 1)).toBe(~4);
  });

  it('finds every key after presizing, growing past the presize, and clearing', () => {
    for (const expected of [0, 10, 100_000]) {
      const table = new StringTable<number>(expected);
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 20_000; i++) addTo(table, i % 2 ? `k${i}` : `a longer key ${i}`, i);
        for (let i = 0; i < 20_000; i++) addTo(table, i % 2 ? `k${i}` : `a longer key ${i}`, i);
        expect(table.size).toBe(20_000);
        for (let i = 0; i < 20_000; i += 97) {
          expect(table.values[table.findOrAdd(i % 2 ? `k${i}` : `a longer key ${i}`, 0)]).toBe(2 * i);
        }
        table.clear();
        expect(table.size).toBe(0);
      }
    }
  });
});
