import { describe, expect, it } from 'vitest';
import { CommitLedger } from '../../../src/driver/commit-ledger.js';
import {
  mapResultPacker,
  PackedMapResult,
  packMapResult,
  sliceOf,
} from '../../../src/driver/packed-map-result.js';
import type { MapResult } from '../../../src/protocol/task-types.js';

/** A map result as a worker returns it: CRCs past 2^31 and a length past 2^32 included. */
const mapResult = (extra: Partial<MapResult> = {}): MapResult => ({
  kind: 'map',
  shuffleKey: 'jobs/j/data/s0/shuffle/3f/s0-m00007-a2.shf',
  slices: [
    { offset: 0, length: 120, records: 9, crc: 4_294_967_295 },
    { offset: 120, length: 0, records: 0, crc: 0 },
    { offset: 120, length: 5_000_000_000, records: 123_456, crc: 2_147_483_648 },
  ],
  metrics: {
    inputBytes: 400,
    inputRecords: 12,
    outputRecords: 9,
    outputBytes: 5_000_000_120,
    spills: 1,
    ms: 3,
  },
  ...extra,
});

describe('packMapResult', () => {
  it('keeps every field: its JSON is the JSON of the result it packed', () => {
    const r = mapResult();
    const packed = packMapResult(r);
    expect(packed).toBeInstanceOf(PackedMapResult);
    expect(JSON.stringify(packed)).toBe(JSON.stringify(r));
    expect(packed.slices).toEqual(r.slices);
    expect(packed.metrics).toEqual(r.metrics);
  });

  it('keeps skipped records and injected faults', () => {
    const r = mapResult({
      badRecords: { count: 2, first: 'a.txt:3: not JSON', key: '_temporary/bad/s0-m00007-a2.jsonl' },
    });
    r.metrics.faults = { 'map:throw': 1 };
    const packed = packMapResult(r);
    expect(JSON.parse(JSON.stringify(packed))).toEqual(r);
    expect(packed.badRecords).toEqual(r.badRecords);
  });

  it('gives one slice by partition, and none past the last', () => {
    const r = mapResult();
    const packed = packMapResult(r);
    expect([0, 1, 2, 3, -1].map((p) => sliceOf(packed, p))).toEqual([...r.slices, undefined, undefined]);
    expect(sliceOf(r, 2)).toEqual(r.slices[2]);
  });

  it('leaves a result of another shape as it is', () => {
    const odd = { ...mapResult(), extra: 'field' } as MapResult;
    expect(packMapResult(odd)).toBe(odd);
  });

  it('is what a ledger given it holds', () => {
    const ledger = new CommitLedger<MapResult>(packMapResult);
    ledger.commit('s0-m00007', 2, mapResult());
    const [kept] = ledger.results();
    expect(kept?.result).toBeInstanceOf(PackedMapResult);
    expect(JSON.stringify(kept)).toBe(
      JSON.stringify({ taskId: 's0-m00007', attempt: 2, result: mapResult() }),
    );
  });

  it('packs a phase into shared columns past their size, wide numbers and odd keys included', () => {
    const pack = mapResultPacker(2);
    const plain = (i: number, extra: Partial<MapResult> = {}): MapResult => {
      const r = mapResult(extra);
      r.slices = r.slices.map((s) => ({
        ...s,
        offset: s.offset + i,
        length: i === 3 ? s.length : s.length % 1000,
      }));
      return { ...r, shuffleKey: `jobs/j/data/s0/shuffle/${i}f/s0-m0000${i}-a1.shf` };
    };
    const results = [0, 1, 2, 3, 4].map((i) => plain(i));
    results.push({ ...plain(5), shuffleKey: 'elsewhere/s0-m00005-a1.shf' });
    const packed = results.map(pack);
    for (const [i, p] of packed.entries()) {
      expect(p).toBeInstanceOf(PackedMapResult);
      expect(JSON.stringify(p)).toBe(JSON.stringify(results[i]));
      expect(sliceOf(p, 2)).toEqual(results[i]?.slices[2]);
    }
    // Another partition count than the phase's first result: kept as it is.
    const two = { ...plain(6), slices: plain(6).slices.slice(0, 2) };
    expect(pack(two)).toBe(two);
  });
});
