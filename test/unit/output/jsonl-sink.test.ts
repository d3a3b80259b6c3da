import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserCodeError } from '../../../src/errors.js';
import { JsonlSink } from '../../../src/output/jsonl-sink.js';
import type { ObjectWriter } from '../../../src/store/object-store.js';

/** Writes records through a JsonlSink into memory and returns the part file's text. */
async function partText(records: [unknown, unknown][]): Promise<string> {
  const chunks: Uint8Array[] = [];
  const sink: ObjectWriter = {
    write: async (chunk) => {
      chunks.push(chunk);
    },
    close: async () => {},
    abort: async () => {},
  };
  const w = new JsonlSink(sink);
  for (const [k, v] of records) w.emit(k, v);
  await w.close();
  return Buffer.concat(chunks).toString('utf8');
}

/** What every line must be: JSON.stringify of the record, with an undefined value as null. */
const expected = (records: [unknown, unknown][]): string =>
  records.map(([key, value]) => `${JSON.stringify({ key, value: value ?? null })}\n`).join('');

describe('JsonlSink', () => {
  it('writes each record as JSON.stringify would, on the fast path for string keys and numbers too', async () => {
    const records: [unknown, unknown][] = [
      ['word', 1],
      ['quote " backslash \\ tab \t nl \n', 2],
      ['\u2028\u2029 \ud800 lone surrogate', 3],
      ['café 日本 🎉', -0],
      ['big', 1e21],
      ['small', 5e-324],
      ['float', 0.1 + 0.2],
      ['nan', Number.NaN],
      ['inf', Number.POSITIVE_INFINITY],
      ['undefined value', undefined],
      [42, 'number key'],
      [{ a: 1 }, [1, 2]],
    ];
    expect(await partText(records)).toBe(expected(records));
  });

  it('matches JSON.stringify for any string key and number value', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.double()), { maxLength: 50 }),
        async (records) => {
          expect(await partText(records)).toBe(expected(records));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('refuses %s as a key, which JSON would write as null, without retries', async (name, key) => {
    const err = await partText([[key, 1]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserCodeError);
    expect((err as UserCodeError).message).toBe(
      `reduce emitted a key that is not a finite number (${name}): keys must be JSON values`,
    );
    expect((err as UserCodeError).retryable).toBe(false);
  });

  it.each([
    [
      'a function value',
      'k',
      () => 1,
      'reduce emitted a value of type function; keys and values must be JSON values',
    ],
    [
      'a symbol value',
      'k',
      Symbol('v'),
      'reduce emitted a value of type symbol; keys and values must be JSON values',
    ],
    [
      'a symbol key',
      Symbol('k'),
      1,
      'reduce emitted a key of type symbol; keys and values must be JSON values',
    ],
    ['a BigInt value', 'k', 1n, 'reduce emitted a value of type bigint; keys and values must be JSON values'],
    [
      'a value holding a BigInt',
      'k',
      { n: 1n },
      'emitted a value that cannot be written as JSON (it holds a BigInt)',
    ],
    ['a circular key', circular(), 1, 'emitted a key that cannot be written as JSON (circular structure)'],
    [
      'a circular value',
      'k',
      circular(),
      'emitted a value that cannot be written as JSON (circular structure)',
    ],
  ])(
    'refuses %s, which JSON.stringify would drop or throw on, without retries',
    async (_name, key, value, message) => {
      const err = await partText([[key, value]]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserCodeError);
      expect((err as UserCodeError).message).toBe(message);
      expect((err as UserCodeError).retryable).toBe(false);
    },
  );

  it('counts the bytes it writes, which the next stage expects its part file to hold', async () => {
    const chunks: Uint8Array[] = [];
    const w = new JsonlSink({
      write: async (chunk) => {
        chunks.push(Buffer.from(chunk));
      },
      close: async () => {},
      abort: async () => {},
    });
    w.emit('café 日本 🎉', 1);
    w.emit('\ud800 lone surrogate', { a: 'ü' });
    await w.writeLines(Buffer.from('{"key":"ß","value":2}\n'), 1);
    await w.close();
    expect(w.bytes).toBe(Buffer.concat(chunks).byteLength);
  });
});

function circular(): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  o.self = o;
  return o;
}
