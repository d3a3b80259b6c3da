/**
 * Revenue by country from Parquet orders (columns country, quantity and unit_price among others):
 * the sum of quantity x unit_price per country, as jobs/revenue-by-country.ts sums its CSV. Only the
 * three columns named are fetched and decoded; a Parquet file's other columns are never read. Sums
 * run in integer cents so they stay exact. Output records: `{ key: country, value: revenue }`.
 *
 * Make a file to try it on from the CSV sample with DuckDB:
 *   COPY (FROM 'jobs/data/revenue-by-country/*.csv') TO 'orders.parquet' (FORMAT parquet);
 */
import { defineJob, type Emit, parquet, sum } from 'fanout';

/** The columns this job reads, as the files hold them (a type only: values are not checked). */
interface Order {
  country: string;
  quantity: number;
  unit_price: number;
}

export default defineJob({
  name: 'parquet-revenue',
  input: parquet<Order>({ columns: ['country', 'quantity', 'unit_price'] }),
  map(row, emit: Emit<string, number>) {
    // unit_price may be a DOUBLE or a DECIMAL: both arrive as numbers.
    const cents = Number(row.quantity) * Math.round(Number(row.unit_price) * 100);
    if (typeof row.country !== 'string' || row.country === '' || !Number.isSafeInteger(cents)) {
      throw new Error(`bad country, quantity or unit_price: ${JSON.stringify(row)}`);
    }
    emit(row.country, cents);
  },
  combine: sum,
  reduce(country, cents, emit: Emit<string, number>) {
    let total = 0;
    for (const c of cents) total += c;
    emit(country, total / 100);
  },
});
