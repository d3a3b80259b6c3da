/**
 * Big Data Benchmark query 2 over Parquet, as a user would write it:
 *   SELECT SUBSTR(sourceIP, 1, 8), SUM(adRevenue) FROM uservisits GROUP BY SUBSTR(sourceIP, 1, 8)
 * over the uservisits table written as Parquet (bench/parquet-aggregate.ts).
 */
import { defineJob, emitSum, sum } from 'fanout';

export default defineJob({
  name: 'bdb-q2-parquet',
  // Only the two columns the query reads are fetched and decoded.
  input: { format: 'parquet', columns: ['sourceIP', 'adRevenue'] },
  map(row, emit) {
    emit((row.sourceIP as string).slice(0, 8), row.adRevenue as number);
  },
  combine: sum,
  reduce: emitSum,
});
