import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitEach } from '../../../src/job/builtins.js';
import { compareKeys } from '../../../src/job/key-order.js';
import { JsonlSink } from '../../../src/output/jsonl-sink.js';
import { jsonStringBytes, writeJsonString } from '../../../src/reducer/json-bytes.js';
import { SortedHolder } from '../../../src/reducer/sorted-holder.js';
import { radixOrder, sortStrings } from '../../../src/shuffle/key-sort.js';
import { RecordReader, RecordWriter } from '../../../src/shuffle/record-codec.js';
import type { ObjectWriter } from '../../../src/store/object-store.js';
import { groupOf, jsonKey } from '../../helpers/keys.js';

/** A part writer into memory; `text()` is what it wrote. */
function memoryPart(): { out: JsonlSink; text(): string } {
  const chunks: Buffer[] = [];
  const sink: ObjectWriter = {
    // Copied: a writer may reuse its chunk once the write resolves.
    write: async (chunk) => {
      chunks.push(Buffer.from(chunk));
    },
    close: async () => {},
    abort: async () => {},
  };
  return { out: new JsonlSink(sink), text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Encodes records into slices of `perSlice` records, as a reducer fetches them. */
function slicesOf(records: readonly [unknown, unknown][], perSlice: number): Buffer[] {
  const slices: Buffer[] = [];
  for (let i = 0; i < records.length; i += perSlice) {
    const w = new RecordWriter(64);
    for (const [k, v] of records.slice(i, i + perSlice)) w.write(k, v);
    slices.push(Buffer.from(w.bytes()));
  }
  return slices;
}

/** The records as a reducer reads them back (-0 as 0, lone surrogates as U+FFFD, ...). */
function readBack(slices: readonly Buffer[]): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  for (const s of slices) {
    const r = new RecordReader(s);
    while (r.next()) out.push([r.key, r.value]);
  }
  return out;
}

function holderOver(slices: readonly Buffer[], emitEachReduce: boolean): SortedHolder {
  const held = new SortedHolder(emitEachReduce);
  for (const s of slices) {
    const reader = new RecordReader(s);
    while (held.addNext(reader)) {
      // every record
    }
  }
  return held;
}

/** The oracle: keys grouped as a Map groups them, in compareKeys order, values in arrival order. */
function grouped(records: readonly [unknown, unknown][]): [unknown, unknown[]][] {
  const groups = new Map<string, [unknown, unknown[]]>();
  for (const [k, v] of records) {
    const g = groups.get(groupOf(k));
    if (g) g[1].push(v);
    else groups.set(groupOf(k), [k, [v]]);
  }
  return [...groups.values()].sort((a, b) => compareKeys(a[0], b[0]));
}

const stringKeys = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom('', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdf', '\uE000', '\u{1F389}', '\uFFFF', 'é'),
  fc.string({ maxLength: 4 }).map((s) => `shared-prefix-${s}`),
);
const values = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('quote " backslash \\ tab \t nl \n \u0001 \u001f \u007f', 'café 日本 🎉', ''),
);

describe('sortStrings', () => {
  it('orders any strings as `<` does, equal ones in their order (stable)', () => {
    fc.assert(
      fc.property(fc.array(stringKeys, { maxLength: 300 }), (keys) => {
        const order = [...sortStrings(keys)];
        const expected = keys
          .map((_, i) => i)
          .sort((a, b) =>
            (keys[a] as string) < (keys[b] as string)
              ? -1
              : (keys[a] as string) > (keys[b] as string)
                ? 1
                : a - b,
          );
        expect(order).toEqual(expected);
      }),
    );
  });

  it('sorts long runs of keys that share their first code units', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `same${String((i * 7919) % 2000).padStart(4, '0')}`);
    const order = [...sortStrings(keys)];
    expect(order.map((i) => keys[i])).toEqual([...keys].sort());
  });
});

describe('radixOrder', () => {
  it('falls back on the comparison for keys equal in their first digits, and keeps equal keys in order', () => {
    // Keys of digits 1..9, as radixOrder reads them (0 where a key has ended).
    const keys = [[1, 2, 3, 4, 9], [1, 2, 3, 4, 1], [1], [1, 2, 3, 4, 5], [1, 2], [1], [1, 2, 3, 4, 1]];
    const digits = Array.from({ length: 4 }, (_, at) => Uint32Array.from(keys, (k) => k[at] ?? 0));
    const order = radixOrder(
      digits,
      10,
      (a, b) => ((keys[a] as number[])[4] ?? 0) - ((keys[b] as number[])[4] ?? 0),
    );
    expect([...order]).toEqual([2, 5, 4, 1, 6, 3, 0]);
  });
});

describe('SortedHolder', () => {
  it('gives every key with its values in key order, values in the order they came', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(stringKeys, jsonKey), values), { maxLength: 120 }),
        fc.integer({ min: 1, max: 40 }),
        (records, perSlice) => {
          const slices = slicesOf(records, perSlice);
          const held = holderOver(slices, false);
          expect(held.size).toBe(records.length);
          expect([...held.sortedEntries()]).toEqual(grouped(readBack(slices)));
        },
      ),
    );
  });

  it('sorts string keys by their bytes as their strings sort, past code points U+E000 and up too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(stringKeys, fc.string({ maxLength: 3 })), { maxLength: 200 }),
        (records) => {
          const slices = slicesOf(records, 17);
          expect([...holderOver(slices, false).sortedEntries()]).toEqual(grouped(readBack(slices)));
        },
      ),
    );
  });

  it('with emitEach, writes the lines JsonlSink would write for emitEach over its entries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.oneof(stringKeys, jsonKey), values), { maxLength: 120 }),
        fc.integer({ min: 1, max: 40 }),
        async (records, perSlice) => {
          const slices = slicesOf(records, perSlice);
          const direct = memoryPart();
          expect(await holderOver(slices, true).writeDirect(direct.out)).toBe(true);
          await direct.out.close();
          const viaReduce = memoryPart();
          for (const [k, vs] of grouped(readBack(slices))) emitEach(k, vs, viaReduce.out.emit);
          await viaReduce.out.close();
          expect(direct.text()).toBe(viaReduce.text());
        },
      ),
    );
  });

  it('writes chunks of about 1 MiB through one reused buffer, every line whole', async () => {
    const records: [string, string][] = Array.from({ length: 30_000 }, (_, i) => [
      `k${String((i * 7919) % 30_000).padStart(6, '0')}`,
      'v'.repeat(60),
    ]);
    const slices = slicesOf(records, 5000);
    const part = memoryPart();
    await holderOver(slices, true).writeDirect(part.out);
    await part.out.close();
    const lines = part.text().trimEnd().split('\n');
    expect(lines).toHaveLength(30_000);
    expect(lines.map((l) => (JSON.parse(l) as { key: string }).key)).toEqual(records.map(([k]) => k).sort());
    expect(part.out.records).toBe(30_000);
  });

  it('writes nothing directly without emitEach: reduce is then called per key', async () => {
    const part = memoryPart();
    expect(await holderOver(slicesOf([['a', 1]], 1), false).writeDirect(part.out)).toBe(false);
  });

  it('is empty again after clear(), for the records after a spill', () => {
    const held = holderOver(
      slicesOf(
        [
          ['b', 1],
          ['a', 2],
        ],
        1,
      ),
      false,
    );
    expect(held.bytes).toBeGreaterThan(0);
    held.clear();
    expect(held.size).toBe(0);
    expect(held.bytes).toBe(0);
    const reader = new RecordReader(slicesOf([['c', 3]], 1)[0] as Buffer);
    while (held.addNext(reader)) {
      // one record
    }
    expect([...held.sortedEntries()]).toEqual([['c', [3]]]);
  });
});

describe('writeJsonString', () => {
  it('writes the JSON.stringify of the text its UTF-8 holds, within jsonStringBytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const utf8 = Buffer.from(s, 'utf8');
        const dst = Buffer.alloc(jsonStringBytes(utf8.length));
        const end = writeJsonString(utf8, 0, utf8.length, dst, 0);
        expect(dst.toString('utf8', 0, end)).toBe(JSON.stringify(utf8.toString('utf8')));
      }),
    );
  });
});
