import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, NotJsonError } from '../../../src/errors.js';
import { createKeyGroups } from '../../../src/shuffle/key-groups.js';
import { mergeSortedRuns, writeSortedRun } from '../../../src/shuffle/sorted-runs.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('runs');

describe('sorted runs', () => {
  it('merges runs into one group per key with every value', () => {
    const dir = temp().path;
    const runs: string[] = [];
    const expected = new Map<string, number[]>();
    for (let r = 0; r < 4; r++) {
      const g = createKeyGroups();
      for (let i = 0; i < 500; i++) {
        const key = `k${(i * 7 + r) % 97}`;
        g.add(key, i + r * 1000);
        expected.set(key, [...(expected.get(key) ?? []), i + r * 1000]);
      }
      const path = join(dir, `run-${r}`);
      writeSortedRun(path, g.sortedEntries());
      runs.push(path);
    }
    const got = new Map<string, number[]>();
    for (const { key, values } of mergeSortedRuns(runs)) {
      expect(got.has(key as string)).toBe(false);
      got.set(key as string, [...values] as number[]);
    }
    expect(got.size).toBe(expected.size);
    for (const [k, vs] of expected)
      expect([...(got.get(k) ?? [])].sort((a, b) => a - b)).toEqual(vs.sort((a, b) => a - b));
  });

  it('skips values a reducer leaves unread', () => {
    const dir = temp().path;
    const g = createKeyGroups();
    for (let i = 0; i < 100; i++) g.add(i % 3, i);
    const path = join(dir, 'run');
    writeSortedRun(path, g.sortedEntries());
    const keys: unknown[] = [];
    for (const { key, values } of mergeSortedRuns([path])) {
      keys.push(key);
      for (const _ of values) break;
    }
    expect(keys).toEqual([0, 1, 2]);
  });
});

describe('sorted runs that changed on disk', () => {
  /** A run of keys k-000 .. k-099, one value each. */
  const writeRun = (): string => {
    const g = createKeyGroups();
    for (let i = 0; i < 100; i++) g.add(`k-${String(i).padStart(3, '0')}`, i);
    const path = join(temp().path, 'run');
    writeSortedRun(path, g.sortedEntries());
    return path;
  };
  const merged = (path: string) => [...mergeSortedRuns([path])].map(({ key, values }) => [key, [...values]]);

  it('reads back every key of an unchanged run', () => {
    const path = writeRun();
    expect(merged(path)).toHaveLength(100);
  });

  it('fails with a retryable CorruptDataError on a changed byte inside a key', () => {
    const path = writeRun();
    const bytes = readFileSync(path);
    // k-042 becomes k-043: without a checksum, two values merge under k-043 and k-042 is gone.
    const at = bytes.indexOf('k-042');
    bytes[at + 4] = '3'.charCodeAt(0);
    writeFileSync(path, bytes);
    let err: unknown;
    try {
      merged(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).message).toMatch(/^checksum mismatch in spill file .*run at byte 0$/);
    expect((err as CorruptDataError).retryable).toBe(true);
  });

  it('fails on a block head cut short, where it used to read as the end of the run', () => {
    const path = writeRun();
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from([1, 0, 0])]));
    expect(() => merged(path)).toThrow(CorruptDataError);
  });
});

describe('KeyGroups', () => {
  it('combines as values arrive and tracks memory', () => {
    const g = createKeyGroups((_k, vs) => (vs as number[]).reduce((a, b) => a + b, 0));
    for (let i = 0; i < 1000; i++) g.add('a', 1);
    g.add({ x: 1 }, 5);
    g.add({ x: 1 }, 6);
    expect(new Map([...g.entries()].map(([k, v]) => [JSON.stringify(k), v]))).toEqual(
      new Map([
        ['"a"', [1000]],
        ['{"x":1}', [11]],
      ]),
    );
    expect(g.bytes).toBeLessThan(2000);
  });

  it('keeps distinct keys of different types apart', () => {
    const g = createKeyGroups();
    g.add('1', 'string');
    g.add(1, 'number');
    g.add(['1'], 'array');
    expect(g.size).toBe(3);
  });

  it.each([
    ['combining', (_k: unknown, vs: unknown[]) => vs[0]],
    ['collecting', undefined],
  ])('refuses a circular value when %s, where a walk of it would never end', (_name, combine) => {
    const g = createKeyGroups(combine);
    const v: Record<string, unknown> = { a: [1], b: 'x' };
    v.self = v;
    expect(() => g.add('k', v)).toThrow(
      new NotJsonError('emitted a value that cannot be written as JSON (circular structure)'),
    );
  });

  it('refuses a circular object key', () => {
    const g = createKeyGroups();
    const k: Record<string, unknown> = {};
    k.self = [k];
    expect(() => g.add(k, 1)).toThrow(/emitted a key that cannot be written as JSON \(circular structure\)/);
  });

  it('sizes a deeply nested value that is not circular', () => {
    const g = createKeyGroups();
    let v: unknown = 'leaf';
    for (let i = 0; i < 500; i++) v = { v };
    g.add('k', v);
    expect(g.bytes).toBeGreaterThan(500 * 8);
  });
});
