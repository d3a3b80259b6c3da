/**
 * Big Data Benchmark query 2 as a user would write it:
 *   SELECT SUBSTR(sourceIP, 1, 8), SUM(adRevenue) FROM uservisits GROUP BY SUBSTR(sourceIP, 1, 8)
 * over a CSV without a header (see bench/uservisits.ts).
 */
import { defineJob, emitSum, sum } from 'fanout';

export default defineJob({
  name: 'bdb-q2',
  // Only the two columns the query reads are parsed; the quoted user agent after them never is.
  input: { format: 'csv', columns: [0, 3] },
  map(row, emit) {
    emit((row[0] ?? '').slice(0, 8), Number(row[3]));
  },
  combine: sum,
  reduce: emitSum,
});
