import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringTable } from '../../../src/shuffle/string-table.js';

describe('StringTable', () => {
  it('behaves like a Map through growth, collisions and clear', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 3000 }),
        (ops) => {
          const table = new StringTable<number>();
          const oracle = new Map<string, number>();
          for (const [k, v] of ops) {
            const h = StringTable.hash(k);
            const i = table.find(k, h);
            if (i >= 0) table.values[i] = (table.values[i] as number) + v;
            else table.insert(k, h, v);
            oracle.set(k, (oracle.get(k) ?? 0) + v);
          }
          expect(new Map(table.keys.map((k, i) => [k, table.values[i]]))).toEqual(oracle);
          table.clear();
          expect(table.size).toBe(0);
          expect(table.find('a', StringTable.hash('a'))).toBe(-1);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('finds keys whose 32-bit hashes collide by comparing the strings', () => {
    const table = new StringTable<string>();
    table.insert('a', 7, 'first');
    table.insert('b', 7, 'second');
    expect(table.values[table.find('b', 7)]).toBe('second');
    expect(table.values[table.find('a', 7)]).toBe('first');
    expect(table.find('c', 7)).toBe(-1);
  });

  it('keeps keys longer than its arena, two-byte characters and keys that share a prefix apart', () => {
    const table = new StringTable<number>();
    const long = 'x'.repeat(200_000);
    const keys = [long, `${long}y`, 'é', 'e\u0301', '𝄞', '', 'ab', 'abc', long.slice(1)];
    keys.forEach((k, i) => {
      table.insert(k, StringTable.hash(k), i);
    });
    keys.forEach((k, i) => {
      expect(table.find(k, StringTable.hash(k))).toBe(i);
    });
    expect(table.find(`${long}z`, StringTable.hash(`${long}z`))).toBe(-1);
  });

  it('finds every key after presizing, growing past the presize, and clearing', () => {
    for (const expected of [0, 10, 100_000]) {
      const table = new StringTable<number>(expected);
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 20_000; i++) table.insert(`k${i}`, StringTable.hash(`k${i}`), i);
        for (let i = 0; i < 20_000; i += 97)
          expect(table.values[table.find(`k${i}`, StringTable.hash(`k${i}`))]).toBe(i);
        expect(table.find('k20000', StringTable.hash('k20000'))).toBe(-1);
        table.clear();
        expect(table.size).toBe(0);
        expect(table.find('k1', StringTable.hash('k1'))).toBe(-1);
      }
    }
  });
});
