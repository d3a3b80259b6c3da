/**
 * Fanout's part files read back by readers that share no code with the writers: DuckDB for
 * Parquet, CSV and JSONL (gzipped or not), flechette (an Arrow implementation apart from
 * apache-arrow, which writes them) for Arrow IPC files. DuckDB's own Arrow reader is an extension
 * that cannot be installed offline.
 */
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from '@uwdata/flechette';

export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The rows of `sql` as JSON-friendly objects (BIGINTs as numbers where they are safe). */
export async function duckdbRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const db = await instance.connect();
    const reader = await db.runAndReadAll(sql);
    const rows = reader
      .getRowObjectsJS()
      .map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
      );
    db.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

/** Column names and DuckDB types of what `from` reads, e.g. `read_parquet('out/*.parquet')`. */
export async function duckdbColumns(from: string): Promise<Record<string, string>> {
  const rows = await duckdbRows(`DESCRIBE SELECT * FROM ${from}`);
  return Object.fromEntries(rows.map((r) => [r.column_name as string, r.column_type as string]));
}

/** Every row of Arrow IPC files, in file order, with Int64 values as numbers. */
export function arrowRows(paths: readonly string[]): Record<string, unknown>[] {
  return paths.flatMap(
    (p) => tableFromIPC(readFileSync(p), { useBigInt: false }).toArray() as Record<string, unknown>[],
  );
}

/** The Arrow files' column names and flechette type ids. */
export function arrowFields(path: string): { name: string; typeId: number; nullable: boolean }[] {
  return tableFromIPC(readFileSync(path)).schema.fields.map((f) => ({
    name: f.name,
    typeId: f.type.typeId,
    nullable: f.nullable,
  }));
}
