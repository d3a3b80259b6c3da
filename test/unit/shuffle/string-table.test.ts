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
});
