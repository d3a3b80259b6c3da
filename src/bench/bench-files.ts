import { join } from 'node:path';
import { isUrl, openStore } from '../store/open-store.js';
import { benchTitle } from './bench-table.js';
import { chartSvg } from './chart-svg.js';
import type { BenchResult } from './run-bench.js';

/** The files a bench writes beside its runs. */
export const BENCH_JSON = 'bench.json';
export const BENCH_SVG = 'bench.svg';

/**
 * Writes `bench.json` (the result) and `bench.svg` (its chart) into a folder or `s3://` prefix, and
 * returns where they went.
 */
export async function writeBenchFiles(
  dir: string,
  bench: BenchResult,
): Promise<{ json: string; svg: string }> {
  const store = openStore(dir);
  await store.put(BENCH_JSON, `${JSON.stringify(bench, null, 2)}\n`);
  await store.put(BENCH_SVG, chartSvg({ title: benchTitle(bench), points: bench.points }));
  const at = (name: string) => (isUrl(dir) ? `${dir.replace(/\/+$/, '')}/${name}` : join(dir, name));
  return { json: at(BENCH_JSON), svg: at(BENCH_SVG) };
}
