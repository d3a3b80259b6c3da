import type { BenchResult } from './run-bench.js';

/** Formats dollars with enough digits to tell small runs apart: `$0.000123`, `$0.0412`, `$1.23`. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  const digits = Math.max(2, Math.min(8, 2 - Math.floor(Math.log10(usd))));
  return `$${usd.toFixed(digits)}`;
}

/** Input size in MiB, as bench corpora are sized: `64.0 MiB`, `0.39 MiB`. */
export function formatMiB(bytes: number): string {
  const mib = bytes / 1024 ** 2;
  return `${mib.toFixed(mib < 10 ? 2 : 1)} MiB`;
}

/** What a bench ran, in a few words: the chart's title. */
export function benchTitle(bench: BenchResult): string {
  return `${bench.job.name} over ${formatMiB(bench.input.bytes)}, ${bench.backend} backend, ${bench.machine.cpus} cores`;
}

/**
 * The bench as `mr bench` prints it: a line on what ran, a table with a row per concurrency
 * (median wall time, MB/s, speedup and efficiency against the lowest concurrency, cost per run), and
 * a line on where the cost comes from.
 */
export function formatBenchTable(bench: BenchResult): string {
  const header = ['concurrency', 'wall (s)', 'MB/s', 'speedup', 'efficiency', 'cost/run'];
  const rows = bench.points.map((p) => [
    String(p.concurrency),
    (p.medianWallMs / 1000).toFixed(2),
    p.mbPerSec.toFixed(1),
    `${p.speedup.toFixed(2)}x`,
    `${Math.round(p.efficiency * 100)}%`,
    p.cost ? formatUsd(p.cost.usdPerRun) : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  const { repeat, warmup } = bench.options;
  const basis =
    bench.costBasis.backend === 'local'
      ? `cost: Lambda (${bench.costBasis.arch}, ${bench.costBasis.memoryMb} MB) for the same task time and one invocation per task; S3 not counted`
      : 'cost: as each run estimated it from its Lambda and S3 use';
  return [
    `${bench.job.name} over ${formatMiB(bench.input.bytes)} (${bench.input.files} files), ${bench.backend} backend, median of ${repeat} run${repeat === 1 ? '' : 's'} each${warmup > 0 ? ` after ${warmup} warm-up` : ''}; outputs of all ${bench.outputs.runs} runs agree`,
    line(header),
    ...rows.map(line),
    basis,
    '',
  ].join('\n');
}
