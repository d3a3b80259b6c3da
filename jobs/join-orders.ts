/**
 * Join orders to their customers: a reduce-side join of two CSV inputs with different headers,
 * read together (`--input jobs/data/join-orders`, which holds `customers/` and `orders/`). `map`
 * tells the two apart by the file each record came from (`ctx.input.key`) and tags the record with
 * its side; the reduce for one customer id gets the customer and all of its orders. Every customer
 * is written, with no orders if it has none; orders of a customer missing from the customer file
 * are kept under their id with a null name. Output records:
 * `{ "key": "c0042", "value": { "name": "Iris Park", "country": "DE", "orders": 12, "total": 1834.5 } }`.
 */
import { defineJob } from 'fanout';

type Tagged = { customer: { name: string; country: string } } | { cents: number };

export default defineJob({
  name: 'join-orders',
  input: { format: 'csv', header: true },
  map(row, emit, ctx) {
    if (ctx.input.key.startsWith('customers/')) {
      emit(row.customer_id, { customer: { name: row.name, country: row.country } });
    } else {
      const cents = Math.round(Number(row.amount) * 100);
      if (!row.customer_id || !Number.isSafeInteger(cents)) throw new Error(`order ${row.order_id}: bad row`);
      emit(row.customer_id, { cents });
    }
  },
  reduce(customerId, tagged: Iterable<Tagged>, emit) {
    let customer: { name: string; country: string } | undefined;
    let orders = 0;
    let cents = 0;
    for (const t of tagged) {
      if ('customer' in t) customer = t.customer;
      else {
        orders++;
        cents += t.cents;
      }
    }
    emit(customerId, {
      name: customer?.name ?? null,
      country: customer?.country ?? null,
      orders,
      total: cents / 100,
    });
  },
});
