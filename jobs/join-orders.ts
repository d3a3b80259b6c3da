/**
 * Join orders to their customers: a reduce-side join of two CSV inputs with different headers,
 * read together (`--input jobs/data/join-orders`, which holds `customers/` and `orders/`). `map`
 * tells the two apart by the file each record came from (`ctx.input.key`) and tags the record with
 * its side; the reduce for one customer id gets the customer and all of its orders. Every customer
 * is written, with no orders if it has none; orders of a customer missing from the customer file
 * are kept under their id with a null name. Output records:
 * `{ "key": "c0042", "value": { "name": "Iris Park", "country": "DE", "orders": 12, "total": 1834.5 } }`.
 */
import { defineJob, type Emit } from 'fanout';

type Tagged = { customer: { name: string; country: string } } | { cents: number };
type Joined = { name: string | null; country: string | null; orders: number; total: number };

export default defineJob({
  name: 'join-orders',
  input: { format: 'csv', header: true },
  map(row, emit: Emit<string, Tagged>, ctx) {
    const id = row.customer_id;
    // A row without its id fails the task, naming the file and line, rather than joining nothing.
    if (!id) throw new Error(`no customer_id in ${ctx.input.key}`);
    if (ctx.input.key.startsWith('customers/')) {
      emit(id, { customer: { name: row.name ?? '', country: row.country ?? '' } });
    } else {
      const cents = Math.round(Number(row.amount) * 100);
      if (!Number.isSafeInteger(cents)) throw new Error(`order ${row.order_id}: bad amount ${row.amount}`);
      emit(id, { cents });
    }
  },
  reduce(customerId, tagged, emit: Emit<string, Joined>) {
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
