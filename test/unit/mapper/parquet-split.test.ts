import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRecordError, InputChangedError } from '../../../src/errors.js';
import { objectBytes } from '../../../src/mapper/parquet-file.js';
import { readParquetSplit } from '../../../src/mapper/parquet-split.js';
import type { Split } from '../../../src/protocol/task-types.js';
import type { ObjectStore } from '../../../src/store/object-store.js';
import { openStore } from '../../../src/store/open-store.js';
import { writeParquet } from '../../helpers/parquet-files.js';
import { tempDir } from '../../helpers/temp.js';

const ROWS = 10_000;
const dir = tempDir('parquet-split');
const store = (): ObjectStore => openStore(pathToFileURL(dir.path).href);
let size = 0;

beforeAll(async () => {
  const rows = Array.from({ length: ROWS }, (_, id) => ({ id, word: `w${(id * 7919) % 1000}` }));
  await writeParquet(
    join(dir.path, 't.parquet'),
    rows,
    { id: 'INTEGER', word: 'VARCHAR' },
    { compression: 'snappy' },
  );
  size = readFileSync(join(dir.path, 't.parquet')).length;
}, 60_000);
afterAll(() => dir.cleanup());

const splitOf = (start: number, end: number, key = 't.parquet'): Split => ({
  store: pathToFileURL(dir.path).href,
  key,
  start,
  end,
  size,
});

/** The ids a split reads, with the row and row group each batch says it holds. */
async function idsOf(split: Split): Promise<number[]> {
  const ids: number[] = [];
  for await (const b of readParquetSplit(store(), split, ['id'])) {
    // Rows are numbered in the file: row n holds id n here.
    expect(b.records.map((r) => r.id)).toEqual(b.records.map((_, i) => b.firstRow + i));
    ids.push(...b.records.map((r) => r.id as number));
  }
  return ids;
}

describe('readParquetSplit', () => {
  it.each([61, 997, 4096, 20_000])('reads every row once over splits of %i bytes', async (step) => {
    const ids: number[] = [];
    for (let start = 0; start < size; start += step)
      ids.push(...(await idsOf(splitOf(start, Math.min(size, start + step)))));

    expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => i));
  });

  it('reads only the named columns', async () => {
    for await (const b of readParquetSplit(store(), splitOf(0, size), ['word'])) {
      expect(Object.keys(b.records[0] ?? {})).toEqual(['word']);
    }
  });

  it('maps ENUM, BLOB, UUID, structs and maps to JSON', async () => {
    const path = join(dir.path, 'types.parquet');
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
    await db.run(
      `COPY (SELECT (['sad', 'ok', 'happy'][i % 3 + 1])::mood AS m, ('\\xAA\\xBB' || i::VARCHAR)::BLOB AS b,
        ('5f0c1f5e-0000-4000-8000-00000000000' || i::VARCHAR)::UUID AS u, {'k': i::BIGINT * 3000000000000000, 's': 'x'} AS st,
        MAP {'a': i} AS mp FROM range(5) t(i)) TO '${path}' (FORMAT parquet)`,
    );
    db.closeSync();
    const bytes = readFileSync(path).length;
    const records: unknown[] = [];

    for await (const b of readParquetSplit(
      store(),
      { ...splitOf(0, bytes, 'types.parquet'), size: bytes },
      undefined,
    ))
      records.push(...b.records);

    expect(records).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({
        m: ['sad', 'ok', 'happy'][i % 3],
        b: Buffer.concat([Buffer.from([0xaa, 0xbb]), Buffer.from(String(i))]).toString('base64'),
        u: `5f0c1f5e-0000-4000-8000-00000000000${i}`,
        st: {
          k: i * 3e15 > Number.MAX_SAFE_INTEGER ? String(BigInt(i) * 3000000000000000n) : i * 3e15,
          s: 'x',
        },
        mp: { a: i },
      })),
    );
  });

  it('refuses a file that is not Parquet, naming it', async () => {
    writeFileSync(join(dir.path, 'x.parquet'), 'id,word\n1,a\n2,b\n');
    const split = { ...splitOf(0, 16, 'x.parquet'), size: 16 };

    const read = idsOf(split);

    await expect(read).rejects.toThrow(
      new BadRecordError(
        `input ${join(dir.path, 'x.parquet')} is not a Parquet file (it does not end in PAR1)`,
      ),
    );
  });

  it('reads the version planned: a file touched since fails as changed', async () => {
    writeFileSync(join(dir.path, 'moved.parquet'), readFileSync(join(dir.path, 't.parquet')));
    const listed = await store().head('moved.parquet');
    const later = Date.now() / 1000 + 5;
    utimesSync(join(dir.path, 'moved.parquet'), later, later);
    const split = { ...splitOf(0, size, 'moved.parquet'), etag: listed?.etag as string };

    await expect(idsOf(split)).rejects.toThrow(InputChangedError);
  });
});

describe('objectBytes', () => {
  it('gives each slice its own bytes, though the store answers with views of a shared pool', async () => {
    const pool = Buffer.from('0123456789abcdef');
    const pooled: ObjectStore = {
      ...store(),
      get: async (_key, range) => pool.subarray(range?.start ?? 0, range?.end ?? pool.length),
    };

    const bytes = objectBytes(pooled, { ...splitOf(0, 16), size: 16 });
    const a = new Uint8Array(await bytes.slice(2, 5));
    pool.fill(0x7a);

    expect(Buffer.from(a).toString()).toBe('234');
  });
});
