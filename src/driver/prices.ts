import { UsageError } from '../errors.js';

/** What AWS charges for what a run uses, per unit, in US dollars: one region, as of one date. */
export interface PriceTable {
  /** When these prices were put in the table (YYYY-MM-DD). */
  asOf: string;
  region: string;
  lambda: {
    /** Per GB-second of billed duration, by architecture. */
    gbSecond: { arm64: number; x86_64: number };
    /** Per invocation. */
    request: number;
  };
  s3: {
    /** Per PUT, COPY, POST request (S3 Standard). */
    put: number;
    /** Per GET (ranged GETs included) and HEAD request. */
    get: number;
    /** Per LIST request (billed as PUTs are). */
    list: number;
    /** Per GB-month stored (S3 Standard, first 50 TB). */
    storageGbMonth: number;
  };
}

/**
 * The one price table: AWS's published list prices for us-east-1 (Lambda: $0.0000133334 per GB-s on
 * arm64, $0.0000166667 on x86_64, $0.20 per million requests; S3 Standard: $0.005 per 1,000 PUT,
 * COPY, POST or LIST requests, $0.0004 per 1,000 GETs, $0.023 per GB-month). Other regions and
 * later prices: pass a JSON file of the same shape, or any part of it (`mr run --prices FILE`,
 * FANOUT_PRICES, or `prices` in RunOptions).
 */
export const PRICES: PriceTable = {
  asOf: '2026-12-02',
  region: 'us-east-1',
  // Per unit, written out: $0.20 per million requests is 0.0000002 each, and so on.
  lambda: { gbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 }, request: 0.0000002 },
  s3: { put: 0.000005, get: 0.0000004, list: 0.000005, storageGbMonth: 0.023 },
};

/** A Lambda size that local task time is priced at: 1769 MB is one full vCPU, on arm64. */
export const LOCAL_AS_LAMBDA = { memoryMb: 1769, arch: 'arm64' } as const;

type Shape = { [key: string]: Shape | 'number' | 'string' };
const SHAPE: Shape = {
  asOf: 'string',
  region: 'string',
  lambda: { gbSecond: { arm64: 'number', x86_64: 'number' }, request: 'number' },
  s3: { put: 'number', get: 'number', list: 'number', storageGbMonth: 'number' },
};

/**
 * The price table with `overrides` (any part of a PriceTable, as JSON text) laid over `base`.
 * `source` names where the text came from, for the error.
 *
 * @example parsePrices('{"region":"eu-west-1","lambda":{"request":2.5e-7}}', 'prices.json')
 * @throws {UsageError} when the text is not JSON, names a key the table does not have, or gives a
 *   price that is not a non-negative number.
 */
export function parsePrices(text: string, source: string, base: PriceTable = PRICES): PriceTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `${source}: prices are not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return merge(base, value, SHAPE, source, '') as unknown as PriceTable;
}

function merge(base: unknown, over: unknown, shape: Shape, source: string, path: string): unknown {
  if (typeof over !== 'object' || over === null || Array.isArray(over)) {
    throw new UsageError(`${source}: ${path || 'the prices'} must be an object, got ${JSON.stringify(over)}`);
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, v] of Object.entries(over)) {
    const at = path ? `${path}.${key}` : key;
    const want = shape[key];
    if (want === undefined) {
      throw new UsageError(`${source}: unknown price ${at} (known: ${Object.keys(shape).join(', ')})`);
    }
    if (want === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new UsageError(`${source}: ${at} must be a price of 0 or more, got ${JSON.stringify(v)}`);
      }
      out[key] = v;
    } else if (want === 'string') {
      if (typeof v !== 'string')
        throw new UsageError(`${source}: ${at} must be a string, got ${JSON.stringify(v)}`);
      out[key] = v;
    } else out[key] = merge(out[key], v, want, source, at);
  }
  return out;
}
