import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../../../src/errors.js';
import { HashSpill } from '../../../src/reducer/hash-spill.js';
import { RecordReader } from '../../../src/shuffle/record-codec.js';
import { BlockReader } from '../../../src/shuffle/run-blocks.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('hash-spill');

/** Every record of a partition file, decoded. */
function recordsOf(path: string): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  const blocks = new BlockReader(path);
  for (let b = blocks.next(); b; b = blocks.next()) {
    const r = new RecordReader(b);
    while (r.next()) out.push([r.key, r.value]);
  }
  return out;
}

describe('HashSpill', () => {
  it('puts every record of a key in one partition, written as bytes or decoded, in the order written', () => {
    const dir = temp().path;
    const spill = new HashSpill((i) => join(dir, `p-${i}`), 8, 0, 4096);
    const keys = ['a', 'é', '日本', '🎉', '', ...Array.from({ length: 300 }, (_, i) => `word${i}`)];
    const written: [unknown, unknown][] = [];
    for (let round = 0; round < 3; round++) {
      for (const [i, k] of keys.entries()) {
        const value = round * 1000 + i;
        // The same key arrives as UTF-8 bytes in one round and as a string in the next.
        if (round === 1) {
          const b = Buffer.from(`xx${k}`);
          spill.writeUtf8Key(b, 2, b.length, value);
        } else spill.write(k, value);
        written.push([k, value]);
      }
    }
    for (const key of [7, null, ['a', 1], { b: true }]) {
      spill.write(key, 'first');
      spill.write(key, 'second');
      written.push([key, 'first'], [key, 'second']);
    }
    const parts = spill.finish();
    expect(parts.length).toBeGreaterThan(4);
    const where = new Map<string, string>();
    const back: [unknown, unknown][] = [];
    for (const p of parts) {
      const records = recordsOf(p.path);
      expect(records.length).toBe(p.records);
      for (const [k, v] of records) {
        const id = JSON.stringify([typeof k, k]);
        expect(where.get(id) ?? p.path, `key ${id} in two partitions`).toBe(p.path);
        where.set(id, p.path);
        back.push([k, v]);
      }
    }
    // Nothing lost or doubled, and each key's values in the order they were written.
    const byKey = (rs: [unknown, unknown][]) => {
      const m = new Map<string, unknown[]>();
      for (const [k, v] of rs)
        m.set(JSON.stringify([typeof k, k]), [...(m.get(JSON.stringify([typeof k, k])) ?? []), v]);
      return m;
    };
    expect(byKey(back)).toEqual(byKey(written));
  });

  it('spreads keys over its partitions, and a later level parts them another way', () => {
    const dir = temp().path;
    const counts = (level: number) => {
      const spill = new HashSpill((i) => join(dir, `l${level}-${i}`), 16, level, 4096);
      for (let i = 0; i < 16_000; i++) spill.write(`k${i}`, 1);
      return spill.finish().map((p) => p.records);
    };
    const level0 = counts(0);
    expect(level0.length).toBe(16);
    for (const n of level0) expect(n).toBeGreaterThan(700);
    // The keys of one level-0 partition, split at level 1, do not all land together again.
    const dir1 = temp().path;
    const first = new HashSpill((i) => join(dir1, `a-${i}`), 4, 0, 4096);
    for (let i = 0; i < 4000; i++) first.write(`k${i}`, 1);
    const [p0] = first.finish();
    const again = new HashSpill((i) => join(dir1, `b-${i}`), 4, 1, 4096);
    for (const [k, v] of recordsOf((p0 as { path: string }).path)) again.write(k, v);
    expect(again.finish().length).toBe(4);
  });

  it('detects a changed byte in a partition file', () => {
    const dir = temp().path;
    const spill = new HashSpill((i) => join(dir, `p-${i}`), 2, 0, 4096);
    for (let i = 0; i < 100; i++) spill.write(`key${i}`, i);
    const [part] = spill.finish();
    const path = (part as { path: string }).path;
    const bytes = readFileSync(path);
    bytes[20] = (bytes[20] as number) ^ 1;
    writeFileSync(path, bytes);
    const err = (() => {
      try {
        recordsOf(path);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).message).toMatch(/^checksum mismatch in spill file .*p-\d at byte 0$/);
    expect((err as CorruptDataError).retryable).toBe(true);
  });
});
