/**
 * Parquet inputs written by DuckDB, an independent writer: the rows a test generated go to DuckDB as
 * JSON lines with their column types spelled out, and come back as a Parquet file in small row groups
 * with the compression asked for. The test's oracle works from the same rows.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Order } from './factories.js';

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** How DuckDB writes a file. */
export interface ParquetWriteOptions {
  /** DuckDB's parquet COMPRESSION: 'snappy', 'gzip', 'zstd', 'uncompressed', ... */
  compression: string;
  /** Rows per row group; DuckDB cuts them at a multiple of 2,048 rows. @default 2048 */
  rowGroupSize?: number;
}

/**
 * Writes `rows` to the Parquet file `path`. `columns` types each JSON field as DuckDB reads it
 * (`{ id: 'BIGINT', day: 'DATE' }`), `select` the columns written, e.g. `id, big::BIGINT AS big`
 * (default every column as read). One thread, so row groups are cut in row order.
 */
export async function writeParquet(
  path: string,
  rows: readonly Record<string, unknown>[],
  columns: Record<string, string>,
  options: ParquetWriteOptions & { select?: string },
): Promise<void> {
  const jsonl = `${path}.jsonl`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(jsonl, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const db = await instance.connect();
    const types = Object.entries(columns)
      .map(([k, t]) => `${sqlString(k)}: ${sqlString(t)}`)
      .join(', ');
    const from = `read_json(${sqlString(jsonl)}, format = 'newline_delimited', columns = {${types}})`;
    await db.run(
      `COPY (SELECT ${options.select ?? '*'} FROM ${from}) TO ${sqlString(path)} ` +
        `(FORMAT parquet, COMPRESSION ${options.compression}, ROW_GROUP_SIZE ${options.rowGroupSize ?? 2048})`,
    );
    db.closeSync();
  } finally {
    instance.closeSync();
    rmSync(jsonl, { force: true });
  }
}

/** Orders (see the factories) as a Parquet table of orders: unit_price a DECIMAL(10, 2). */
export function writeOrdersParquet(
  path: string,
  orders: readonly Order[],
  options: ParquetWriteOptions,
): Promise<void> {
  const rows = orders.map((o) => ({
    order_id: o.orderId,
    country: o.country,
    customer_id: o.customerId,
    product: o.product,
    quantity: o.quantity,
    unit_price: o.unitPriceCents / 100,
    ordered_at: o.orderedAt.replace('T', ' ').replace('Z', ''),
    notes: o.notes,
  }));
  const columns = {
    order_id: 'VARCHAR',
    country: 'VARCHAR',
    customer_id: 'VARCHAR',
    product: 'VARCHAR',
    quantity: 'INTEGER',
    unit_price: 'DECIMAL(10,2)',
    ordered_at: 'TIMESTAMP',
    notes: 'VARCHAR',
  };
  return writeParquet(path, rows, columns, options);
}
