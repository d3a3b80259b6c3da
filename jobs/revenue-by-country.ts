/**
 * Revenue by country from a CSV of orders with a header row (order_id, country, quantity,
 * unit_price, ...): the sum of quantity x unit_price per country. Sums run in integer cents so they
 * stay exact; only the final value is in currency units. Output records:
 * `{ key: country, value: revenue }`, e.g. `{ "key": "DE", "value": 12345.67 }`.
 */
import { defineJob, sum } from 'fanout';

export default defineJob({
  name: 'revenue-by-country',
  input: { format: 'csv', header: true },
  map(row, emit) {
    const cents = Number(row.quantity) * Math.round(Number(row.unit_price) * 100);
    // A malformed row fails the task rather than dropping revenue without a trace.
    if (!row.country || !Number.isSafeInteger(cents)) {
      throw new Error(`order ${row.order_id}: bad country, quantity or unit_price`);
    }
    emit(row.country, cents);
  },
  // The built-in sum adds a key's values; the reduce gets one value per key, already summed.
  combine: sum,
  reduce(country, cents, emit) {
    let total = 0;
    for (const c of cents) total += c;
    emit(country, total / 100);
  },
});
