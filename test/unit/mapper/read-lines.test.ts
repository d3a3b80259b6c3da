import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linesOfWhole, linesViaSplits, storeWith } from '../../helpers/split-reader.js';

const long = 'x'.repeat(100);

describe('readLines over byte-range splits', () => {
  const cases: { name: string; text: string }[] = [
    { name: 'empty file', text: '' },
    { name: 'one line, final newline', text: 'alpha beta\n' },
    { name: 'missing final newline', text: 'alpha\nbeta\ngamma' },
    { name: 'CRLF line endings', text: 'alpha\r\nbeta\r\ngamma\r\n' },
    { name: 'CRLF without final newline', text: 'alpha\r\nbeta' },
    { name: 'blank lines kept', text: 'a\n\n\nb\n' },
    { name: 'only newlines', text: '\n\n\n' },
    { name: 'multi-byte UTF-8 everywhere', text: 'café naïve\n日本語のテキスト\n🎉🎉🎉 emoji\nÅngström\n' },
    { name: 'record longer than a split', text: `short\n${long}\nshort again\n${long}` },
    { name: 'newline exactly at split edges', text: 'abc\ndef\nghi\njkl\n' },
  ];
  const sizes = [1, 2, 3, 4, 5, 7, 16, 64, 1000];

  for (const c of cases) {
    it.each(sizes)(`${c.name}: split size %i yields exactly the whole file's lines`, async (size) => {
      const store = storeWith('f.txt', c.text);
      expect(await linesViaSplits(store, 'f.txt', size)).toEqual(linesOfWhole(c.text));
    });
  }

  it('reads a gzip object as one split, whatever the split size', async () => {
    const text = 'one\r\ntwo\nthree café\nfour';
    const store = storeWith('f.txt.gz', text, true);
    expect(await linesViaSplits(store, 'f.txt.gz', 3)).toEqual(linesOfWhole(text));
  });

  it('any text at any split size yields the same lines as reading it whole', async () => {
    const alphabet = fc.constantFrom('a', 'b', ' ', '\n', '\r\n', 'é', '日', '🎉', '\n\n');
    await fc.assert(
      fc.asyncProperty(
        fc.array(alphabet, { maxLength: 80 }),
        fc.integer({ min: 1, max: 40 }),
        async (parts, size) => {
          const text = parts.join('');
          const store = storeWith('p.txt', text);
          expect(await linesViaSplits(store, 'p.txt', size)).toEqual(linesOfWhole(text));
        },
      ),
      { numRuns: 150 },
    );
  });
});
