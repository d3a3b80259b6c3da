import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserCodeError } from '../../../src/errors.js';
import type { OutputSpec } from '../../../src/output/output-spec.js';
import { partExtension, resolveOutputSpec } from '../../../src/output/output-spec.js';
import { openPartSink, type PartSink } from '../../../src/output/part-sink.js';
import type { ObjectWriter } from '../../../src/store/object-store.js';
import { arrowFields, arrowRows, duckdbColumns, duckdbRows, sqlString } from '../../helpers/read-outputs.js';

const dir = mkdtempSync(join(tmpdir(), 'fanout-part-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A part file written to memory, then to a file for the readers; `closed` is what close() said. */
async function writePart(
  spec: OutputSpec,
  fill: (sink: PartSink) => void | Promise<void>,
): Promise<{ path: string; closed: boolean; aborted: boolean; sink: PartSink }> {
  const chunks: Uint8Array[] = [];
  let aborted = false;
  const out: ObjectWriter = {
    write: async (c) => {
      chunks.push(Uint8Array.from(c));
    },
    close: async () => {},
    abort: async () => {
      aborted = true;
    },
  };
  const sink = openPartSink(out, spec);
  await fill(sink);
  const closed = await sink.close();
  const path = join(dir, `part-${files++}${partExtension(spec)}`);
  writeFileSync(path, Buffer.concat(chunks));
  return { path, closed, aborted, sink };
}

/** Emits through the sink as a reducer does: flushing whenever it is full. */
async function emitAll(sink: PartSink, records: [unknown, unknown][]): Promise<void> {
  for (const [k, v] of records) {
    sink.emit(k, v);
    if (sink.full) await sink.flush();
  }
}

const counts: [unknown, unknown][] = Array.from({ length: 70_000 }, (_, i) => [`w${i}`, i % 97]);
const oracle = counts.map(([key, value]) => ({ key, value }));
const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  String(a.key) < String(b.key) ? -1 : String(a.key) > String(b.key) ? 1 : 0;

describe('part files read back by an independent reader', () => {
  it('parquet: 70,000 {key, value} records over two row groups, read by DuckDB', async () => {
    const { path, sink } = await writePart({ format: 'parquet' }, (s) => emitAll(s, counts));
    expect(sink.records).toBe(70_000);
    expect(await duckdbColumns(`read_parquet(${sqlString(path)})`)).toEqual({
      key: 'VARCHAR',
      value: 'DOUBLE',
    });
    const rows = await duckdbRows(`SELECT key, value FROM read_parquet(${sqlString(path)}) ORDER BY key`);
    expect(rows).toEqual([...oracle].sort(byKey));
    const groups = await duckdbRows(
      `SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata(${sqlString(path)})`,
    );
    expect(groups[0]?.n).toBe(2);
  });

  it('csv with gzip: DuckDB reads the header, the rows and the gzip', async () => {
    const { path } = await writePart({ format: 'csv', compression: 'gzip' }, (s) => emitAll(s, counts));
    expect(path.endsWith('.csv.gz')).toBe(true);
    const rows = await duckdbRows(
      `SELECT key, value FROM read_csv(${sqlString(path)}, header = true) ORDER BY key`,
    );
    expect(rows).toEqual([...oracle].sort(byKey));
  });

  it('jsonl with gzip: the same lines, gzipped', async () => {
    const { path } = await writePart({ format: 'jsonl', compression: 'gzip' }, (s) => emitAll(s, counts));
    const rows = await duckdbRows(
      `SELECT key, value FROM read_json(${sqlString(path)}, format = 'newline_delimited') ORDER BY key`,
    );
    expect(rows).toEqual([...oracle].sort(byKey));
  });

  it('arrow: every record batch, read by flechette, with nullable typed columns', async () => {
    const { path } = await writePart({ format: 'arrow' }, (s) => emitAll(s, counts));
    expect(arrowRows([path])).toEqual(oracle);
    expect(arrowFields(path).map((f) => [f.name, f.nullable])).toEqual([
      ['key', true],
      ['value', true],
    ]);
  });

  it("an object value's fields become columns beside the key; missing fields are null; nested ones JSON", async () => {
    const records: [unknown, unknown][] = [
      ['fr', { revenue: 12.5, orders: 3, tags: ['a', 'b'], vip: true }],
      ['de', { revenue: 7, orders: 1, vip: false }],
      ['it', { revenue: null, orders: 2, tags: { x: 1 } }],
    ];
    const expected = [
      { key: 'de', revenue: 7, orders: 1, tags: null, vip: false },
      { key: 'fr', revenue: 12.5, orders: 3, tags: '["a","b"]', vip: true },
      { key: 'it', revenue: null, orders: 2, tags: '{"x":1}', vip: null },
    ];
    const pq = await writePart({ format: 'parquet' }, (s) => emitAll(s, records));
    const from = `read_parquet(${sqlString(pq.path)})`;
    expect(await duckdbColumns(from)).toEqual({
      key: 'VARCHAR',
      revenue: 'DOUBLE',
      orders: 'DOUBLE',
      tags: 'JSON',
      vip: 'BOOLEAN',
    });
    expect(
      await duckdbRows(`SELECT key, revenue, orders, tags::VARCHAR AS tags, vip FROM ${from} ORDER BY key`),
    ).toEqual(expected);
    const csv = await writePart({ format: 'csv' }, (s) => emitAll(s, records));
    expect(
      await duckdbRows(
        `SELECT key, revenue, orders, tags, vip FROM read_csv(${sqlString(csv.path)}, header = true, types = {'revenue': 'DOUBLE', 'orders': 'DOUBLE', 'tags': 'VARCHAR', 'vip': 'BOOLEAN'}) ORDER BY key`,
      ),
    ).toEqual(expected);
    const arrow = await writePart({ format: 'arrow' }, (s) => emitAll(s, records));
    expect(arrowRows([arrow.path]).sort(byKey)).toEqual(expected);
  });

  it('csv quotes commas, quotes and line breaks, and tells an empty string from a null', async () => {
    const texts = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', '', ' padded ', 'ünï,cødé'];
    const records = texts.map((t, i) => ({ id: i, text: t }) as Record<string, unknown>);
    records.push({ id: texts.length, text: null });
    const { path } = await writePart({ format: 'csv', columns: { id: 'int64', text: 'string' } }, (s) => {
      for (const r of records) s.write(r);
    });
    const rows = await duckdbRows(
      `SELECT id, text FROM read_csv(${sqlString(path)}, header = true, allow_quoted_nulls = false, types = {'id': 'BIGINT', 'text': 'VARCHAR'}) ORDER BY id`,
    );
    expect(rows).toEqual(records);
  });

  it('declared columns fix the names, order and types: int64 is BIGINT, a missing field null', async () => {
    const spec: OutputSpec = {
      format: 'parquet',
      columns: { value: 'int64', key: 'string', note: 'string' },
    };
    const { path } = await writePart(spec, (s) =>
      emitAll(s, [
        ['a', 2 ** 53 - 1],
        ['b', -3],
      ]),
    );
    const from = `read_parquet(${sqlString(path)})`;
    expect(await duckdbColumns(from)).toEqual({ value: 'BIGINT', key: 'VARCHAR', note: 'VARCHAR' });
    expect(await duckdbRows(`SELECT * FROM ${from} ORDER BY key`)).toEqual([
      { value: 2 ** 53 - 1, key: 'a', note: null },
      { value: -3, key: 'b', note: null },
    ]);
    const arrow = await writePart({ ...spec, format: 'arrow' }, (s) => emitAll(s, [['a', 5]]));
    expect(arrowRows([arrow.path])).toEqual([{ value: 5, key: 'a', note: null }]);
  });

  it('map-only records: an object gives its fields, anything else one column named value', async () => {
    const objects = await writePart({ format: 'parquet' }, (s) => {
      s.write({ user: 'u1', ms: 12 });
      s.write({ user: 'u2', ms: 40.5 });
    });
    expect(await duckdbRows(`SELECT * FROM read_parquet(${sqlString(objects.path)}) ORDER BY user`)).toEqual([
      { user: 'u1', ms: 12 },
      { user: 'u2', ms: 40.5 },
    ]);
    const scalars = await writePart({ format: 'csv' }, (s) => {
      s.write('x');
      s.write('y');
    });
    expect(await duckdbRows(`SELECT * FROM read_csv(${sqlString(scalars.path)}, header = true)`)).toEqual([
      { value: 'x' },
      { value: 'y' },
    ]);
  });
});

describe('part files refuse what they cannot hold, without retrying', () => {
  const fails = async (spec: OutputSpec, fill: (s: PartSink) => void | Promise<void>) => {
    const err = await writePart(spec, fill).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserCodeError);
    expect((err as UserCodeError).retryable).toBe(false);
    return (err as Error).message;
  };

  it('a fraction in an int64 column, a string in a double one', async () => {
    expect(
      await fails({ format: 'parquet', columns: { key: 'string', value: 'int64' } }, (s) =>
        emitAll(s, [['a', 1.5]]),
      ),
    ).toBe('output column "value" is int64 (declared in output.columns) but a record has 1.5 there');
    const later = await fails({ format: 'arrow' }, async (s) => {
      await emitAll(s, [['a', 1]]);
      await s.flush();
      await emitAll(s, [['b', 'two']]);
    });
    expect(later).toContain(
      'output column "value" is double (from the part\'s first records) but a record has "two"',
    );
    expect(later).toContain('declare output.columns');
  });

  it('a field the first batch did not have', async () => {
    const msg = await fails({ format: 'csv' }, async (s) => {
      s.write({ a: 1 });
      await s.flush();
      s.write({ a: 2, b: 3 });
    });
    expect(msg).toContain('output record has a field "b" not among the part\'s columns (a)');
  });

  it('a reduce value with a field named key', async () => {
    const err = await writePart({ format: 'parquet' }, (s) => s.emit('k', { key: 1 })).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain('a field named "key"');
  });
});

describe('empty parts', () => {
  it('without declared columns: nothing is published (a Parquet file needs a column)', async () => {
    for (const format of ['csv', 'arrow', 'parquet'] as const) {
      const part = await writePart({ format }, () => {});
      expect([format, part.closed, part.aborted]).toEqual([format, false, true]);
    }
    const jsonl = await writePart({ format: 'jsonl' }, () => {});
    expect(jsonl.closed).toBe(true);
  });

  it('with declared columns: a file of no rows that readers take', async () => {
    const columns = { key: 'string', value: 'int64' } as const;
    const pq = await writePart({ format: 'parquet', columns }, () => {});
    expect(pq.closed).toBe(true);
    expect(await duckdbRows(`SELECT count(*) AS n FROM read_parquet(${sqlString(pq.path)})`)).toEqual([
      { n: 0 },
    ]);
    expect(await duckdbColumns(`read_parquet(${sqlString(pq.path)})`)).toEqual({
      key: 'VARCHAR',
      value: 'BIGINT',
    });
    const arrow = await writePart({ format: 'arrow', columns }, () => {});
    expect(arrowRows([arrow.path])).toEqual([]);
    expect(arrowFields(arrow.path).map((f) => f.name)).toEqual(['key', 'value']);
    const csv = await writePart({ format: 'csv', columns }, () => {});
    expect(csv.closed).toBe(true);
  });
});

describe('resolveOutputSpec', () => {
  it('lays run options over the job and names the extension', () => {
    expect(resolveOutputSpec({ format: 'csv', compression: 'gzip' }, { format: 'jsonl' })).toEqual({
      format: 'jsonl',
      compression: 'gzip',
    });
    expect(resolveOutputSpec({ format: 'csv', compression: 'gzip' }, { compression: 'none' })).toEqual({
      format: 'csv',
    });
    expect(partExtension({ format: 'parquet' })).toBe('.parquet');
    expect(partExtension(undefined)).toBe('.jsonl');
  });

  it.each([
    [{ format: 'xml' }, 'output: format must be one of jsonl, csv, arrow, parquet, got "xml"'],
    [
      { format: 'parquet', compression: 'gzip' },
      "output: parquet part files compress their own pages; compression 'gzip' is for jsonl and csv",
    ],
    [{ format: 'csv', compression: 'zstd' }, `output: compression must be 'gzip' or 'none', got "zstd"`],
    [{ format: 'csv', colums: {} }, 'output: unknown option "colums" (format, compression, columns)'],
    [
      { format: 'csv', columns: { a: 'int' } },
      'output: column "a" has type "int"; types are string, int64, double, boolean, json',
    ],
    ['parquet', "output must be an object such as { format: 'parquet' }"],
  ])('refuses %j in one line', (spec, message) => {
    expect(() => resolveOutputSpec(spec)).toThrow(message);
  });
});
