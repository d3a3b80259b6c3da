import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeySums } from '../../../src/reducer/key-sums.js';

/** Adds every pair as the reduce side would: the key as the UTF-8 bytes a shuffle record holds. */
function summed(pairs: [string, number][], expectedKeys = 0): KeySums {
  const sums = new KeySums(expectedKeys);
  for (const [key, value] of pairs) {
    const bytes = Buffer.concat([Buffer.from('xx'), Buffer.from(key, 'utf8'), Buffer.from('yy')]);
    sums.add(bytes, 2, bytes.length - 2, value);
  }
  return sums;
}

/** The oracle: a key's first value as it is, then each next one folded as `sum` folds two values. */
function oracle(pairs: [string, number][]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of pairs) {
    const k = Buffer.from(key, 'utf8').toString('utf8'); // a lone surrogate becomes U+FFFD, as in the shuffle
    const acc = out.get(k);
    out.set(k, acc === undefined ? value : 0 + acc + value);
  }
  return out;
}

const keys = fc.oneof(
  fc.constantFrom(
    'a',
    'word',
    'exactly8',
    'nine-char',
    'quote"back\\slash',
    'tab\tnl\ncr\r\u0001\u001f\u007f',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const pairs = fc.array(fc.tuple(keys, fc.oneof(fc.integer(), fc.double())), { maxLength: 200 });

describe('KeySums', () => {
  it('sums each key as folding with sum does, for any keys and values', () => {
    fc.assert(
      fc.property(pairs, (ps) => {
        const got = new Map([...summed(ps).entries()].map(([k, [v]]) => [k as string, v as number]));
        expect(got).toEqual(oracle(ps));
      }),
      { numRuns: 500 },
    );
  });

  it("writes the lines emitSum would, JSON.stringify's escapes included, in chunks of whole lines", () => {
    fc.assert(
      fc.property(pairs, fc.constantFrom(16, 100, 1 << 20), (ps, chunkBytes) => {
        const sums = summed(ps);
        const chunks = [...sums.jsonLines(chunkBytes)];
        for (const [chunk, lines] of chunks) {
          expect(chunk.at(-1)).toBe(0x0a);
          expect(chunk.toString('utf8').split('\n').length - 1).toBe(lines);
        }
        const text = Buffer.concat(chunks.map(([c]) => c)).toString('utf8');
        const want = [...oracle(ps)].map(([key, v]) => `${JSON.stringify({ key, value: 0 + v })}\n`).join('');
        expect(text).toBe(want);
        expect(chunks.reduce((n, [, lines]) => n + lines, 0)).toBe(sums.size);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps its keys through growth, and after clear starts afresh', () => {
    const ps: [string, number][] = Array.from({ length: 20_000 }, (_, i) => [
      i % 2 ? `k${i}` : `a-longer-key-${i}`,
      i,
    ]);
    const sums = summed([...ps, ...ps]);
    expect(sums.size).toBe(20_000);
    expect(new Map([...sums.entries()].map(([k, [v]]) => [k, v]))).toEqual(oracle([...ps, ...ps]));
    sums.clear();
    expect(sums.size).toBe(0);
    sums.add(Buffer.from('x'), 0, 1, 1);
    expect([...sums.jsonLines()].map(([c]) => c.toString())).toEqual(['{"key":"x","value":1}\n']);
  });
});
