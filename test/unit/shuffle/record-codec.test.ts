import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, UserCodeError } from '../../../src/errors.js';
import { endOfValue, RecordReader, RecordWriter, valueAt } from '../../../src/shuffle/record-codec.js';

function roundTrip(pairs: [unknown, unknown][]): [unknown, unknown][] {
  const w = new RecordWriter(8);
  for (const [k, v] of pairs) w.write(k, v);
  const r = new RecordReader(Buffer.from(w.bytes()));
  const out: [unknown, unknown][] = [];
  while (r.next()) out.push([r.key, r.value]);
  return out;
}

describe('record codec', () => {
  it('round-trips every kind of JSON key and value', () => {
    const pairs: [unknown, unknown][] = [
      ['word', 1],
      ['café 日本 🎉', -2147483648],
      [42, 2147483648],
      [1.5, 0.1],
      [true, false],
      [null, null],
      [{ a: [1, 'x'] }, ['nested', { b: null }]],
      ['', ''],
    ];
    expect(roundTrip(pairs)).toEqual(pairs);
  });

  it('reads a key written as UTF-8 bytes back as its string', () => {
    const w = new RecordWriter(8);
    const keys = ['word', '', 'café 日本 🎉', 'x'.repeat(300)];
    for (const [i, key] of keys.entries()) {
      const padded = Buffer.concat([Buffer.from('<<'), Buffer.from(key), Buffer.from('>>')]);
      w.writeUtf8Key(padded, 2, padded.length - 2, i === 0 ? 2 ** 40 : i);
    }
    const r = new RecordReader(Buffer.from(w.bytes()));
    const out: [unknown, unknown][] = [];
    while (r.next()) out.push([r.key, r.value]);
    expect(out).toEqual(keys.map((k, i) => [k, i === 0 ? 2 ** 40 : i]));
    expect(w.records).toBe(keys.length);
  });

  it('round-trips arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.jsonValue(), fc.jsonValue())), (pairs) => {
        // JSON has no -0; the codec keeps numbers exactly, so normalise the expectation the same way.
        const norm = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
        expect(roundTrip(pairs).map(([k, v]) => [norm(k), norm(v)])).toEqual(
          pairs.map(([k, v]) => [norm(k), norm(v)]),
        );
      }),
    );
  });

  it('rejects a value that is not JSON', () => {
    expect(() => new RecordWriter().write('k', undefined)).toThrow(UserCodeError);
    expect(() => new RecordWriter().write('k', () => 1)).toThrow(UserCodeError);
  });

  it('detects truncated and garbled bytes', () => {
    const w = new RecordWriter();
    w.write('key', 'value');
    const bytes = Buffer.from(w.bytes());
    expect(() => new RecordReader(bytes.subarray(0, bytes.length - 2)).next()).toThrow(CorruptDataError);
    bytes[0] = 99;
    expect(() => new RecordReader(bytes).next()).toThrow(CorruptDataError);
  });

  it('steps over records undecoded with nextRaw(), which valueAt() decodes where they lie', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.jsonValue(), fc.jsonValue())), (pairs) => {
        const w = new RecordWriter(16);
        for (const [k, v] of pairs) w.write(k, v);
        const bytes = Buffer.from(w.bytes());
        const r = new RecordReader(bytes);
        const out: [unknown, unknown][] = [];
        let at = 0;
        while (r.nextRaw()) {
          expect(r.recordStart).toBe(at);
          const key = valueAt(bytes, r.recordStart);
          if (typeof key === 'string') expect(bytes.toString('utf8', r.keyStart, r.keyEnd)).toBe(key);
          else expect(r.keyStart).toBe(-1);
          expect(endOfValue(bytes, r.recordStart)).toBe(r.valueStart);
          out.push([key, valueAt(bytes, r.valueStart)]);
          at = r.valueEnd;
        }
        expect(at).toBe(bytes.length);
        expect(out).toEqual(roundTrip(pairs));
      }),
    );
  });

  it('detects truncated and garbled bytes with nextRaw() too', () => {
    const w = new RecordWriter();
    w.write('key', 'value');
    const bytes = Buffer.from(w.bytes());
    for (const cut of [1, 3, 6, bytes.length - 1]) {
      expect(() => new RecordReader(bytes.subarray(0, cut)).nextRaw()).toThrow(CorruptDataError);
    }
    bytes[0] = 99;
    expect(() => new RecordReader(bytes).nextRaw()).toThrow(CorruptDataError);
  });

  it('moves the records of one writer to the end of another with takeFrom()', () => {
    const a = new RecordWriter(8);
    const b = new RecordWriter(8);
    b.write('x', 1);
    b.write('y', [2]);
    a.takeFrom(b);
    expect(b.length).toBe(0);
    expect(b.records).toBe(0);
    b.write('z', null);
    a.takeFrom(b);
    expect(a.records).toBe(3);
    const r = new RecordReader(a.bytes());
    const out: unknown[] = [];
    while (r.next()) out.push([r.key, r.value]);
    expect(out).toEqual([
      ['x', 1],
      ['y', [2]],
      ['z', null],
    ]);
  });
});
