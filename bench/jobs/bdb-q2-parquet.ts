/**
 * Big Data Benchmark query 2 over Parquet, as a user would write it:
 *   SELECT SUBSTR(sourceIP, 1, 8), SUM(adRevenue) FROM uservisits GROUP BY SUBSTR(sourceIP, 1, 8)
 * over the uservisits table written as Parquet (bench/parquet-aggregate.ts).
 */
import { defineJob, type Emit, emitSum, parquet, sum } from 'fanout';

interface UserVisit {
  sourceIP: string;
  adRevenue: number;
}

export default defineJob({
  name: 'bdb-q2-parquet',
  // Only the two columns the query reads are fetched and decoded.
  input: parquet<UserVisit>({ columns: ['sourceIP', 'adRevenue'] }),
  map(row, emit: Emit<string, number>) {
    emit(row.sourceIP.slice(0, 8), row.adRevenue);
  },
  combine: sum,
  reduce: emitSum,
});
