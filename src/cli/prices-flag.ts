import { readFileSync } from 'node:fs';
import { type PriceTable, parsePrices } from '../driver/prices.js';
import { UsageError } from '../errors.js';

/**
 * The price table a command was given: `--prices FILE`, else the file (or JSON text) in
 * FANOUT_PRICES, else none (the built-in table applies). Either holds any part of a PriceTable.
 * @throws {UsageError} when the file cannot be read or does not hold prices.
 */
export function pricesFrom(flag: string | undefined): { prices?: PriceTable } {
  const env = process.env.FANOUT_PRICES;
  const source = flag ?? (env === undefined || env === '' ? undefined : env);
  if (source === undefined) return {};
  const name = flag !== undefined ? `--prices ${flag}` : 'FANOUT_PRICES';
  if (flag === undefined && source.trimStart().startsWith('{')) return { prices: parsePrices(source, name) };
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    throw new UsageError(
      `${name}: cannot read ${source}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return { prices: parsePrices(text, name) };
}
