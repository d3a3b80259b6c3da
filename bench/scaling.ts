/**
 * Scaling benchmark: how much faster `jobs/wordcount.ts` runs with 2 workers than with 1, against how
 * much faster DuckDB's word count (bench/duckdb-wordcount.ts, the `csv-exact` query) runs with 2 threads
 * than with 1, on the same corpus, as child processes timed from spawn to exit.
 *
 *   npm run bench:scaling -- [--rounds 5] [--size 256]
 *
 * Each round runs all four (mr at 1 and 2 workers, DuckDB at 1 and 2 threads), the order reversed in
 * every other round so that drift in the machine's speed favours none. A round's speedup is its
 * 1-worker time over its 2-worker time; the figures are the medians of the rounds' speedups, for mr's
 * wall time, mr's map phase (from `--json`) and DuckDB. The first round's outputs are checked against
 * the corpus totals. A full run appends a JSON line to bench/results/scaling.jsonl.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BenchError,
  check,
  checkTotals,
  gitCommit,
  machine,
  median,
  parseJsonObject,
  ROOT,
  runNode,
  secs,
} from './child-run.js';
import { ensureCorpus } from './corpus.js';

const INPUT = 'bench/data/wordcount';
const VARIANT = 'csv-exact';

interface Run {
  who: 'mr' | 'duckdb';
  n: number;
}
const RUNS: Run[] = [
  { who: 'mr', n: 1 },
  { who: 'mr', n: 2 },
  { who: 'duckdb', n: 1 },
  { who: 'duckdb', n: 2 },
];
const label = (r: Run) => (r.who === 'mr' ? `mr/${r.n}w` : `duckdb/${r.n}t`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '5' }, size: { type: 'string', default: '256' } },
  });
  const rounds = Number(values.rounds);
  const sizeMiB = Number(values.size);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError('--rounds must be a positive integer');
  if (!(sizeMiB > 0)) throw new BenchError('--size must be a positive number of MiB');
  const corpus = ensureCorpus(join(ROOT, INPUT), sizeMiB).manifest;
  console.log(`corpus: ${INPUT}, ${(corpus.totalBytes / 2 ** 20).toFixed(0)} MiB, ${rounds} rounds`);

  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const wall = new Map<string, number[]>(RUNS.map((r) => [label(r), []]));
  const mapMs = new Map<number, number[]>([
    [1, []],
    [2, []],
  ]);
  const speedups = { mr: [] as number[], mrMap: [] as number[], duckdb: [] as number[] };

  for (let round = 1; round <= rounds; round++) {
    const tmp = mkdtempSync(join(tmpdir(), 'fanout-bench-scaling-'));
    try {
      const order = round % 2 === 1 ? RUNS : [...RUNS].reverse();
      const ms = new Map<string, number>();
      const map = new Map<number, number>();
      for (const run of order) {
        const out = join(tmp, label(run).replace('/', '-'));
        if (run.who === 'mr') {
          const r = await runNode([
            ...['bin/mr.js', 'run', 'jobs/wordcount.ts', '--input', INPUT, '--output', out],
            ...['--concurrency', String(run.n), '--work', work, '--json', '--quiet'],
          ]);
          check(`mr run --concurrency ${run.n}`, r);
          const stage = (parseJsonObject(r.stdout)?.stages as { mapMs: number }[] | undefined)?.[0];
          if (!stage) throw new BenchError('could not read the map phase from mr --json');
          map.set(run.n, stage.mapMs);
          mapMs.get(run.n)?.push(stage.mapMs);
          if (round === 1) checkTotals(`mr --concurrency ${run.n}`, out, corpus);
          ms.set(label(run), r.ms);
        } else {
          const r = await runNode([
            ...['--import', 'tsx', 'bench/duckdb-wordcount.ts', '--input', `${INPUT}/part-*.txt`],
            ...['--output', out, '--threads', String(run.n), '--variant', VARIANT],
          ]);
          check(`duckdb-wordcount --threads ${run.n}`, r);
          ms.set(label(run), r.ms);
        }
        wall.get(label(run))?.push(ms.get(label(run)) as number);
      }
      const at = (k: string) => ms.get(k) as number;
      speedups.mr.push(at('mr/1w') / at('mr/2w'));
      speedups.mrMap.push((map.get(1) as number) / (map.get(2) as number));
      speedups.duckdb.push(at('duckdb/1t') / at('duckdb/2t'));
      console.log(
        `round ${round}: ${RUNS.map((r) => `${label(r)} ${secs(at(label(r)))}`).join('  ')}  ` +
          `speedup mr ${speedups.mr.at(-1)?.toFixed(2)}x (map ${speedups.mrMap.at(-1)?.toFixed(2)}x), ` +
          `duckdb ${speedups.duckdb.at(-1)?.toFixed(2)}x`,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  const s = {
    mr: +median(speedups.mr).toFixed(2),
    mrMap: +median(speedups.mrMap).toFixed(2),
    duckdb: +median(speedups.duckdb).toFixed(2),
  };
  console.log(
    `median speedup 1 -> 2: mr ${s.mr.toFixed(2)}x (map phase ${s.mrMap.toFixed(2)}x), ` +
      `duckdb ${s.duckdb.toFixed(2)}x; mr's as a share of duckdb's: ${(s.mr / s.duckdb).toFixed(2)}`,
  );
  const record = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: machine(),
    corpusBytes: corpus.totalBytes,
    rounds,
    duckdbVariant: VARIANT,
    ms: Object.fromEntries([...wall].map(([k, xs]) => [k, xs.map(Math.round)])),
    mapMs: Object.fromEntries([...mapMs].map(([n, xs]) => [`mr/${n}w`, xs])),
    speedup: s,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  appendFileSync(join(ROOT, 'bench/results/scaling.jsonl'), `${JSON.stringify(record)}\n`);
  console.log('recorded in bench/results/scaling.jsonl');
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
