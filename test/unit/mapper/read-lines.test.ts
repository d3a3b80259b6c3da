import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../../src/backends/object-store.js';
import { splitObject } from '../../../src/driver/plan-splits.js';
import { readLines } from '../../../src/mapper/read-lines.js';
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

describe('readLines over chunks cut anywhere', () => {
  /** A store whose streams come in chunks of `chunkSize` bytes: every line can be cut anywhere. */
  function chunkedStore(bytes: Buffer, chunkSize: number): ObjectStore {
    return {
      async *stream(_key: string, range?: { start: number; end: number }) {
        const from = range?.start ?? 0;
        const to = range?.end ?? bytes.length;
        for (let i = from; i < to; i += chunkSize) yield bytes.subarray(i, Math.min(to, i + chunkSize));
      },
    } as unknown as ObjectStore;
  }

  async function linesOf(
    store: ObjectStore,
    size: number,
    splitSize: number,
    gzip = false,
  ): Promise<string[]> {
    const out: string[] = [];
    const splits = gzip
      ? [{ store: 'mem://', key: 'k', start: 0, end: size, size, gzip: true }]
      : splitObject({ store: 'mem://', key: 'k', size }, splitSize);
    for (const split of splits) for await (const batch of readLines(store, split)) out.push(...batch);
    return out;
  }

  it('any text, any chunk size, any split size: the lines of the whole', async () => {
    const text = fc
      .array(fc.constantFrom('a', 'bc', ' ', '\n', '\r\n', 'é', '日'), { maxLength: 60 })
      .map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 20 }),
        async (t, chunk, split) => {
          const bytes = Buffer.from(t);
          expect(await linesOf(chunkedStore(bytes, chunk), bytes.length, split)).toEqual(linesOfWhole(t));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a gzip stream whose last line ends a decompressed chunk gets no extra empty line', async () => {
    // zlib hands out 16 KiB chunks: the line ends exactly at the end of the second.
    for (const text of [`${'x'.repeat(2 * 16384 - 1)}\n`, `a\n${'x'.repeat(2 * 16384 - 3)}\n`]) {
      const gz = gzipSync(text);
      expect(await linesOf(chunkedStore(gz, 1000), gz.length, 0, true)).toEqual(linesOfWhole(text));
    }
  });
});
