import type { ParquetParsers, SchemaTree } from 'hyparquet';

/**
 * How Parquet values become the JSON values `map` receives. hyparquet decodes most types to JSON
 * already (INT32, FLOAT, DOUBLE, BOOLEAN, strings, DECIMAL as a number); these parsers turn its
 * dates and timestamps into text as it decodes them, and the column converters below finish what is
 * left: INT64 (a BigInt), binary (bytes), and nested values holding either.
 */

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const DAY_MS = 86_400_000;

/** `2024-01-31T10:00:00.123Z`: to the millisecond, as Date#toISOString writes it. */
const isoOfMillis = (ms: number): string => new Date(ms).toISOString();

/** `a / b` rounded down, so a time before 1970 falls in the millisecond it is in. */
const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
};

/** hyparquet's parsers for dates and timestamps, giving the text Fanout records hold. */
export const PARQUET_PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (ms: bigint) => isoOfMillis(Number(ms)),
  timestampFromMicroseconds: (us: bigint) => isoOfMillis(Number(floorDiv(us, 1000n))),
  timestampFromNanoseconds: (ns: bigint) => isoOfMillis(Number(floorDiv(ns, 1_000_000n))),
  dateFromDays: (days: number) => {
    const iso = isoOfMillis(days * DAY_MS);
    return iso.slice(0, iso.indexOf('T')); // `+010000-01-01` past year 9999
  },
};

/** An INT64 as a number while it is exactly one, else its decimal digits. */
export function int64Value(v: unknown): unknown {
  if (typeof v !== 'bigint') return v ?? null;
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
}

/** Bytes as base64 text; anything else (a string, a decimal's number, null) as it is. */
export function bytesValue(v: unknown): unknown {
  if (!(v instanceof Uint8Array)) return v ?? null;
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

const utf8 = new TextDecoder();

/** An ENUM's bytes as the text they are. */
export function enumValue(v: unknown): unknown {
  return v instanceof Uint8Array ? utf8.decode(v) : (v ?? null);
}

/** A nested value (list, struct, map) with every INT64, byte string and missing value inside made JSON. */
export function nestedValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return int64Value(v);
  if (typeof v !== 'object' || v === null) return v;
  if (v instanceof Uint8Array) return bytesValue(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<unknown>, nestedValue);
  if (v instanceof Date) return v.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = nestedValue(x);
  return out;
}

/**
 * What a top-level column's decoded values still need to be JSON, or undefined when they are
 * already: a call per value only for the columns that need one.
 */
export function converterOf(column: SchemaTree): ((v: unknown) => unknown) | undefined {
  if (column.children.length > 0) return nestedValue;
  const { type, converted_type: converted, logical_type: logical } = column.element;
  // hyparquet leaves an ENUM's bytes as they are (with utf8 off): they are UTF-8 text.
  if (converted === 'ENUM' || logical?.type === 'ENUM') return enumValue;
  if (type === 'INT64') return int64Value; // DECIMAL and TIMESTAMP ones arrive converted, and pass
  if (type === 'BYTE_ARRAY' || type === 'FIXED_LEN_BYTE_ARRAY') return bytesValue; // strings pass
  return undefined;
}
