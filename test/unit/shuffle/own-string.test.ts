import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownString } from '../../../src/shuffle/own-string.js';

describe('ownString', () => {
  it('gives back an equal string, whatever its length and code units', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        expect(ownString(s)).toBe(s);
      }),
    );
    const line = `${'x'.repeat(20_000)}\ud83c\u0000é${'y'.repeat(9_000)}`;
    for (const s of [line, line.slice(5, 30), line.slice(19_990, 20_010), line.slice(1)]) {
      expect(ownString(s)).toBe(s);
    }
  });
});
