import { describe, expect, it } from 'vitest';
import { bytesValue, int64Value, nestedValue, PARQUET_PARSERS } from '../../../src/mapper/parquet-values.js';

describe('parquet values', () => {
  it.each([
    [0n, 0],
    [-42n, -42],
    [9007199254740991n, 9007199254740991],
    [-9007199254740991n, -9007199254740991],
    [9007199254740992n, '9007199254740992'],
    [-9007199254740993n, '-9007199254740993'],
    [18446744073709551615n, '18446744073709551615'],
  ])('gives INT64 %s as %j', (v, want) => {
    expect(int64Value(v)).toBe(want);
  });

  it('passes what is not a BigInt (a DECIMAL number, a timestamp text), and gives null for missing', () => {
    expect(int64Value(12.5)).toBe(12.5);
    expect(int64Value('2024-01-01T00:00:00.000Z')).toBe('2024-01-01T00:00:00.000Z');
    expect(int64Value(null)).toBe(null);
    expect(int64Value(undefined)).toBe(null);
  });

  it('gives bytes as base64, of the view only, and passes strings', () => {
    const backing = new Uint8Array([0, 1, 0xff, 0x61, 0x62, 9]);
    expect(bytesValue(backing.subarray(2, 5))).toBe(Buffer.from([0xff, 0x61, 0x62]).toString('base64'));
    expect(bytesValue(new Uint8Array())).toBe('');
    expect(bytesValue('text')).toBe('text');
    expect(bytesValue(undefined)).toBe(null);
  });

  it('makes nested values JSON all the way down', () => {
    const v = { a: [1n, 2n ** 60n, undefined], b: { c: new Uint8Array([104, 105]), d: 'x', e: null } };

    expect(nestedValue(v)).toEqual({
      a: [1, '1152921504606846976', null],
      b: { c: 'aGk=', d: 'x', e: null },
    });
    expect(nestedValue(new Int32Array([3, 4]))).toEqual([3, 4]);
  });

  it('writes dates as YYYY-MM-DD and timestamps as ISO 8601 in UTC, to the millisecond, rounding down', () => {
    const p = PARQUET_PARSERS as Required<typeof PARQUET_PARSERS>;

    expect(p.dateFromDays(0)).toBe('1970-01-01');
    expect(p.dateFromDays(-1)).toBe('1969-12-31');
    expect(p.dateFromDays(19_723)).toBe('2024-01-01');
    expect(p.dateFromDays(3_000_000)).toBe('+010183-09-21');
    expect(p.timestampFromMilliseconds(1_704_103_200_123n)).toBe('2024-01-01T10:00:00.123Z');
    expect(p.timestampFromMicroseconds(1_704_103_200_123_999n)).toBe('2024-01-01T10:00:00.123Z');
    expect(p.timestampFromMicroseconds(-1n)).toBe('1969-12-31T23:59:59.999Z');
    expect(p.timestampFromNanoseconds(1_704_103_200_123_456_789n)).toBe('2024-01-01T10:00:00.123Z');
    expect(p.timestampFromNanoseconds(-1n)).toBe('1969-12-31T23:59:59.999Z');
  });
});
