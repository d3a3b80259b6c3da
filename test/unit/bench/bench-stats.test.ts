import { describe, expect, it } from 'vitest';
import { median, megabytesPerSecond, runOrder, scaling } from '../../../src/bench/bench-stats.js';
import { formatBenchTable, formatUsd } from '../../../src/bench/bench-table.js';
import type { BenchResult } from '../../../src/bench/run-bench.js';
import { checkConcurrencies } from '../../../src/bench/run-bench.js';
import { UsageError } from '../../../src/errors.js';

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([3])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('scaling', () => {
  // 100 MB of input; medians 10 s at 1, 6 s at 2, 4 s at 4.
  const points = scaling(
    100e6,
    new Map([
      [4, [4000, 4400, 3900]],
      [1, [10_000, 9000, 11_000]],
      [2, [6000, 6100, 5800]],
    ]),
  );

  it('takes the median wall time of each concurrency, in ascending order', () => {
    expect(points.map((p) => [p.concurrency, p.medianWallMs])).toEqual([
      [1, 10_000],
      [2, 6000],
      [4, 4000],
    ]);
    expect(points[2]?.wallMs).toEqual([4000, 4400, 3900]);
  });

  it('gives MB/s of the median, speedup against the lowest concurrency, efficiency against linear', () => {
    expect(points.map((p) => p.mbPerSec)).toEqual([10, 100 / 6, 25]);
    expect(points.map((p) => p.speedup)).toEqual([1, 10 / 6, 2.5]);
    expect(points.map((p) => p.efficiency)).toEqual([1, 10 / 12, 2.5 / 4]);
  });

  it('measures speedup and efficiency from the lowest concurrency, whatever it is', () => {
    const [base, double] = scaling(
      1e6,
      new Map([
        [2, [1000]],
        [4, [500]],
      ]),
    );
    expect(base).toMatchObject({ speedup: 1, efficiency: 1 });
    expect(double).toMatchObject({ speedup: 2, efficiency: 1 });
    expect(megabytesPerSecond(1e6, 500)).toBe(2);
  });
});

describe('runOrder', () => {
  it('runs every concurrency once per repeat, alternating ascending and descending', () => {
    expect(runOrder([4, 1, 2], 3).map((r) => `c${r.concurrency}-r${r.repeat}`)).toEqual([
      'c1-r1',
      'c2-r1',
      'c4-r1',
      'c4-r2',
      'c2-r2',
      'c1-r2',
      'c1-r3',
      'c2-r3',
      'c4-r3',
    ]);
  });
});

describe('checkConcurrencies', () => {
  it('sorts a list of distinct positive whole numbers', () => {
    expect(checkConcurrencies([8, 1, 4])).toEqual([1, 4, 8]);
  });

  it.each([[[]], [[0]], [[1.5]], [[2, 2]], [[-1]]])('refuses %j', (list) => {
    expect(() => checkConcurrencies(list)).toThrow(UsageError);
  });
});

describe('formatBenchTable', () => {
  const bench = {
    job: { file: '/jobs/wordcount.ts', name: 'wordcount' },
    input: { paths: ['/data'], files: 8, bytes: 64 * 1024 ** 2 },
    backend: 'local',
    options: { repeat: 3, warmup: 1 },
    costBasis: { backend: 'local', memoryMb: 1769, arch: 'arm64' },
    outputs: { agree: true, runs: 7, fingerprint: { lines: 1, bytes: 1, hash: '0' } },
    points: [
      {
        concurrency: 1,
        wallMs: [],
        medianWallMs: 4000,
        mbPerSec: 16.777,
        speedup: 1,
        efficiency: 1,
        cost: { usdPerRun: 0.0000912, usd: [], lambdaGbSecondsPerRun: 0, invocationsPerRun: 0 },
      },
      { concurrency: 2, wallMs: [], medianWallMs: 2500, mbPerSec: 26.84, speedup: 1.6, efficiency: 0.8 },
    ],
  } as unknown as BenchResult;

  it('prints a row per concurrency under a header, and where the cost comes from', () => {
    const lines = formatBenchTable(bench).trimEnd().split('\n');
    expect(lines[0]).toBe(
      'wordcount over 64.0 MiB (8 files), local backend, median of 3 runs each after 1 warm-up; outputs of all 7 runs agree',
    );
    expect(lines[1]?.trim().split(/\s{2,}/)).toEqual([
      'concurrency',
      'wall (s)',
      'MB/s',
      'speedup',
      'efficiency',
      'cost/run',
    ]);
    expect(lines[2]?.trim().split(/\s+/)).toEqual(['1', '4.00', '16.8', '1.00x', '100%', '$0.0000912']);
    expect(lines[3]?.trim().split(/\s+/)).toEqual(['2', '2.50', '26.8', '1.60x', '80%', '-']);
    expect(lines[4]).toMatch(/^cost: Lambda \(arm64, 1769 MB\)/);
    // Columns line up: every row is as wide as the header.
    expect(new Set(lines.slice(1, 4).map((l) => l.length)).size).toBe(1);
  });

  it('formats dollars with three significant digits below a cent', () => {
    expect(formatUsd(0.0000912)).toBe('$0.0000912');
    expect(formatUsd(0.0412)).toBe('$0.0412');
    expect(formatUsd(1.234)).toBe('$1.23');
    expect(formatUsd(0)).toBe('$0');
  });
});
