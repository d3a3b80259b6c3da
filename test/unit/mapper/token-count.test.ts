import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spaceAt, TokenCounter } from '../../../src/mapper/token-count.js';
import { hashPartition } from '../../../src/shuffle/key-order.js';
import { RecordWriter } from '../../../src/shuffle/record-codec.js';

/** The oracle: decode the whole text, cut lines as the line reader does, split them as the JS map does. */
function expected(bytes: Buffer): { lines: number; tokens: number; counts: Map<string, number> } {
  const text = bytes.toString('utf8');
  const lines = text === '' ? [] : text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const counts = new Map<string, number>();
  let tokens = 0;
  for (const line of lines) {
    for (const t of line.replace(/\r$/, '').split(/\s+/)) {
      if (!t) continue;
      tokens++;
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
  }
  return { lines: lines.length, tokens, counts };
}

/** Feeds the text as the line reader would: runs of whole lines, without the last one's newline. */
function counted(bytes: Buffer, runLines: number, countLimit?: number): TokenCounter {
  const c = new TokenCounter(0, countLimit);
  const body = bytes.at(-1) === 0x0a ? bytes.subarray(0, -1) : bytes;
  if (bytes.length === 0) return c;
  let start = 0;
  let seen = 0;
  for (let i = 0; i <= body.length; i++) {
    if (i < body.length && body[i] !== 0x0a) continue;
    if (++seen % runLines !== 0 && i < body.length) continue;
    c.addRun(body.subarray(start, i));
    start = i + 1;
  }
  return c;
}

const countsOf = (c: TokenCounter) => new Map([...c.entries()].map(([k, [v]]) => [k as string, v as number]));

describe('spaceAt', () => {
  it("matches JavaScript's /\\s/ on every code point", () => {
    const wrong: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue; // not encodable in UTF-8
      const ch = String.fromCodePoint(cp);
      const bytes = Buffer.from(ch, 'utf8');
      const want = /\s/.test(ch) ? bytes.length : 0;
      if (spaceAt(bytes, 0, bytes.length) !== want) wrong.push(cp.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('does not read a sequence cut short by the end of the run', () => {
    const nbsp = Buffer.from('\u00a0\u3000');
    expect(spaceAt(nbsp, 0, 1)).toBe(0);
    expect(spaceAt(nbsp, 2, 4)).toBe(0);
    expect(spaceAt(nbsp, 2, 5)).toBe(3);
    // A lead byte with a following byte that is not a continuation is no space (nor is what follows).
    expect(spaceAt(Buffer.from([0xe2, 0x80, 0x61]), 0, 3)).toBe(0);
  });
});

describe('TokenCounter', () => {
  // Pieces that make tokens, every kind of whitespace, near misses, and invalid UTF-8.
  const pieces = [
    'a',
    'b',
    'ab',
    'é',
    '日本',
    '😀',
    'x'.repeat(40),
    // Bytes that are no whitespace though below 0x20 or at 0x7f: a packed key's leading zero bytes
    // must not make it another key of the same length.
    '\u0000',
    '\u0001',
    '\u001f',
    '\u007f',
    ' ',
    '  ',
    '\t',
    '\n',
    '\r\n',
    '\r',
    '\v',
    '\f',
    '\u00a0',
    '\u1680',
    '\u2000',
    '\u200a',
    '\u200b',
    '\u2028',
    '\u2029',
    '\u202f',
    '\u205f',
    '\u3000',
    '\ufeff',
    '\u180e',
    '\u0085',
    '\u00ad',
  ].map((s) => Buffer.from(s, 'utf8'));
  const invalid = [
    [0xff],
    [0xc2],
    [0xe2, 0x80],
    [0xe2],
    [0xed, 0xa0, 0x80],
    [0xf0, 0x9f],
    [0x80],
    [0xa0],
  ].map((b) => Buffer.from(b));
  const text = fc
    .array(
      fc.oneof(
        { arbitrary: fc.constantFrom(...pieces), weight: 6 },
        { arbitrary: fc.constantFrom(...invalid), weight: 1 },
      ),
      {
        maxLength: 300,
      },
    )
    .map((parts) => Buffer.concat(parts));

  it('counts the lines and tokens the JavaScript map would, in runs of any number of lines', () => {
    fc.assert(
      // A small limit on a slot's count moves counts aside often (see the test below).
      fc.property(
        text,
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(2, 3, 2 ** 30),
        (bytes, runLines, limit) => {
          const want = expected(bytes);
          const c = counted(bytes, runLines, limit);
          expect(c.lines).toBe(want.lines);
          expect(c.tokens).toBe(want.tokens);
          expect(countsOf(c)).toEqual(want.counts);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes the records entries() gives, each in the partition hashPartition picks', () => {
    const writers = (n: number) => Array.from({ length: n }, () => new RecordWriter(16));
    fc.assert(
      fc.property(text, fc.constantFrom(1, 3, 8), fc.constantFrom(2, 2 ** 30), (bytes, n, limit) => {
        const c = counted(bytes, 2, limit);
        const direct = writers(n);
        c.writeRecords(direct);
        const viaStrings = writers(n);
        for (const [key, [count]] of c.entries()) viaStrings[hashPartition(key, n)]?.write(key, count);
        for (let p = 0; p < n; p++) {
          expect(direct[p]?.records).toBe(viaStrings[p]?.records);
          expect(Buffer.compare(direct[p]?.bytes() as Buffer, viaStrings[p]?.bytes() as Buffer)).toBe(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives each decoded key once when different invalid bytes decode alike', () => {
    const c = new TokenCounter();
    c.addRun(Buffer.from([0x61, 0xff, 0x20, 0x61, 0xfe, 0x20, 0x61, 0xff]));
    expect(c.size).toBe(2);
    expect(countsOf(c)).toEqual(new Map([['a\ufffd', 3]]));
  });

  it('keeps counting across growth and after clear', () => {
    const c = new TokenCounter();
    // Short words are packed into their slots, long ones kept in the arena: both kinds move on growth.
    const words = Array.from({ length: 30_000 }, (_, i) => (i % 2 ? `w${i}` : `a-longer-word-${i}`));
    c.addRun(Buffer.from(words.join(' ')));
    c.addRun(Buffer.from(words.slice(0, 100).join('\n')));
    const counts = countsOf(c);
    expect(counts.size).toBe(30_000);
    expect(counts.get('a-longer-word-0')).toBe(2);
    expect(counts.get('w1')).toBe(2);
    expect(counts.get('w29999')).toBe(1);
    expect(c.lines).toBe(101);
    c.clear();
    expect(c.size).toBe(0);
    c.addRun(Buffer.from('w1 w1'));
    expect(countsOf(c)).toEqual(new Map([['w1', 2]]));
  });

  it('keeps exact counts past the limit a slot holds', () => {
    // A limit of 3 moves a count aside every few tokens; the real limit (2^30) is the same path.
    const c = new TokenCounter(0, 3);
    const text = `${'ab '.repeat(10)}${'a-longer-word '.repeat(7)}caf\u00e9 caf\u00e9 caf\u00e9 x`;
    c.addRun(Buffer.from(text));
    expect(countsOf(c)).toEqual(
      new Map([
        ['ab', 10],
        ['a-longer-word', 7],
        ['caf\u00e9', 3],
        ['x', 1],
      ]),
    );
    // With invalid UTF-8 the keys are merged by decoded string, counts moved aside included.
    c.addRun(Buffer.from([0x61, 0xff, 0x20, 0x61, 0xff, 0x20, 0x61, 0xff, 0x20, 0x61, 0xfe]));
    expect(countsOf(c).get('a\ufffd')).toBe(4);
    expect(countsOf(c).get('ab')).toBe(10);
  });
});
