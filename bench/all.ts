/**
 * Every benchmark of issue #12, one after another, and one file of what they measured:
 *
 *   npm run bench -- [--only wordcount,sort] [--rounds N]
 *
 * Each benchmark runs as its own child process (`node --import tsx bench/<name>.ts`) and appends its
 * record to bench/results/<name>.jsonl as it always does; this collects every record appended during
 * the run into bench/results/<date>.json with the machine's description, prints the headline figures
 * against their targets, and rewrites the table in the README between its `bench:table` markers.
 * The chart beside it (bench/results/scaling.svg) is `mr bench`'s own, of the word count at 1 and 2
 * workers. A benchmark that fails is named and the rest still run; the run exits 1 at the end.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError, gitCommit, machine, ROOT, runNode, secs } from './child-run.js';
import { ensureCorpus } from './corpus.js';

/** A record a benchmark appended, as parsed JSON. */
// biome-ignore lint/suspicious/noExplicitAny: records are each benchmark's own shape, read by path below
type BenchRecord = any;

/** One line of the table: what is measured, the figure, the target, and whether it is met. */
interface Row {
  figure: string;
  measured: string;
  target: string;
  met: boolean;
}

interface Bench {
  name: string;
  /** The script's arguments (after `bench/<name>.ts`). */
  args: (rounds: string | undefined) => string[];
  rows: (r: BenchRecord) => Row[];
}

const x = (n: number) => `${n.toFixed(2)}x`;
const mb = (n: number) => `${Math.round(n).toLocaleString('en-US')} MB`;
const perSec = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
const rounds = (def: string) => (r: string | undefined) => ['--rounds', r ?? def];

const BENCHES: Bench[] = [
  {
    name: 'wordcount',
    args: rounds('3'),
    rows: (r) => [
      {
        figure: 'word count (`jobs/wordcount.ts`, built-ins) vs DuckDB (csv-exact), 256 MiB, 2 workers',
        measured: x(r.ratio['wordcount/csv-exact']),
        target: '<= 0.85x',
        met: r.ratio['wordcount/csv-exact'] <= 0.85,
      },
      {
        figure: 'word count written out (`jobs/wordcount-js.ts`) vs DuckDB',
        measured: x(r.ratio['wordcount-js/csv-exact']),
        target: '<= 1.5x',
        met: r.ratio['wordcount-js/csv-exact'] <= 1.5,
      },
      {
        figure: 'peak RSS of `mr`, 256 MiB word count',
        measured: mb(r.peakRssMb.wordcount),
        target: '<= 1,024 MB',
        met: r.peakRssMb.wordcount <= 1024,
      },
    ],
  },
  {
    name: 'csv-aggregate',
    args: rounds('3'),
    rows: (r) => [
      {
        figure: 'BDB query 2 as a user writes it vs DuckDB, 256 MiB',
        measured: x(r.ratio),
        target: '<= 1.0x',
        met: r.ratio <= 1,
      },
    ],
  },
  {
    name: 'scaling',
    args: rounds('5'),
    rows: (r) => [
      {
        figure: 'speedup 1 -> 2 workers (word count) vs DuckDB 1 -> 2 threads',
        measured: `${x(r.speedup.mr)} vs ${x(r.speedup.duckdb)} (map phase ${x(r.speedup.mrMap)})`,
        target: ">= DuckDB's",
        met: r.speedup.mr >= r.speedup.duckdb,
      },
    ],
  },
  {
    name: 'tiny-tasks',
    args: rounds('3'),
    rows: (r) => [
      {
        figure: '10,240 map tasks of 4 KiB through the local pool',
        measured: perSec(r.medians.wordcount.tasksPerSecond),
        target: '>= 3,000/s',
        met: r.medians.wordcount.tasksPerSecond >= 3000,
      },
    ],
  },
  {
    name: 'invoke-rate',
    args: () => [],
    rows: (r) => [
      {
        figure: 'no-op invocations through the Lambda invoker (best concurrency)',
        measured: perSec(r.best.perSecond),
        target: '>= 2,000/s',
        met: r.best.perSecond >= 2000,
      },
    ],
  },
  {
    name: 'gzip-inputs',
    args: rounds('3'),
    rows: (r) => [
      {
        figure: 'four 10 MB gzip files, default options: map tasks',
        measured: `${r.medians.mapTasks} tasks, ${secs(r.medians.wallMs)}`,
        target: 'both cores busy',
        met: r.medians.mapTasks >= 2,
      },
    ],
  },
  {
    name: 'memory-budget',
    args: rounds('3'),
    rows: (r) => [
      {
        figure: '4.2 M distinct keys, `--memory-budget 16MiB` vs default',
        measured: `${x(r.ratio)} (CPU ${x(r.cpuRatio)})`,
        target: '<= 1.5x',
        met: r.ratio <= 1.5,
      },
    ],
  },
  {
    name: 'driver-memory',
    args: () => [],
    rows: (r) => [
      {
        figure: `peak RSS, a ${r.plan.mapTasks.toLocaleString('en-US')}-task plan (driver and local workers)`,
        measured: mb(r.plan.peakRssMb),
        target: '<= 300 MB',
        met: r.plan.peakRssMb <= 300,
      },
    ],
  },
  {
    name: 'sort',
    args: rounds('3'),
    rows: (r) => [
      {
        figure: 'sort (`jobs/sort.ts`) vs `LC_ALL=C sort --parallel=2 -S 1G`, 256 MiB',
        measured: x(r.ratio),
        target: '<= 2x',
        met: r.ratio <= 2,
      },
    ],
  },
  {
    name: 'stream',
    args: () => ['--records', '200000'],
    rows: (r) => [
      {
        figure: 'stream consumer vs a GetRecords loop paced to Kinesis limits',
        measured: x(r.ratioConsumerToPaced),
        target: '>= 0.9x',
        met: r.ratioConsumerToPaced >= 0.9,
      },
      {
        figure: `put-to-process p99 at ${r.latency.rate} records/s (batch window 0)`,
        measured: `${r.latency.p99Ms} ms`,
        target: '<= 250 ms',
        met: r.latency.p99Ms <= 250,
      },
    ],
  },
];

/** The lines of a results file. */
const linesOf = (path: string): string[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];

/** The README table of `rows`, between the markers. */
function tableOf(date: string, rows: Row[]): string {
  const lines = [
    `Measured ${date.slice(0, 10)} by \`npm run bench\` on this project's 2-core machine (\`bench/results/${date.slice(0, 10)}.json\`):`,
    '',
    ...alignedTable([
      ['figure', 'measured', 'target', 'met'],
      ...rows.map((r) => [r.figure, r.measured, r.target, r.met ? 'yes' : 'no']),
    ]),
  ];
  return lines.join('\n');
}

/** A Markdown table with its columns padded, as the formatter (biome) lays README tables out. */
function alignedTable(cells: string[][]): string[] {
  const widths = (cells[0] as string[]).map((_, c) =>
    Math.max(3, ...cells.map((row) => (row[c] as string).length)),
  );
  const line = (row: string[]) => `| ${row.map((v, c) => v.padEnd(widths[c] as number)).join(' | ')} |`;
  const [head, ...body] = cells as [string[], ...string[][]];
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/** `mr bench` of the word count at 1 and 2 workers, for its chart; the chart's path, or undefined. */
async function scalingChart(): Promise<string | undefined> {
  const input = join(ROOT, 'bench/data/wordcount-64');
  ensureCorpus(input, 64);
  const out = mkdtempSync(join(tmpdir(), 'fanout-bench-all-'));
  try {
    const r = await runNode([
      ...['bin/mr.js', 'bench', 'jobs/wordcount.ts', '--input', input, '--concurrency', '1,2'],
      ...['--split-size', '8MiB', '--repeat', '3', '--output-dir', join(out, 'b'), '--quiet'],
    ]);
    if (r.code !== 0) {
      console.error(`mr bench failed:\n${r.stderr.trimEnd().split('\n').slice(-5).join('\n')}`);
      return undefined;
    }
    process.stdout.write(r.stdout);
    const chart = join(ROOT, 'bench/results/scaling.svg');
    copyFileSync(join(out, 'b', 'bench.svg'), chart);
    return chart;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Rewrites the README's table between its `bench:table` markers. */
function writeReadmeTable(date: string, rows: Row[]): void {
  const readme = join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const re = /(<!-- bench:table -->\n)[\s\S]*?(<!-- \/bench:table -->)/;
  if (!re.test(text)) {
    console.error('README.md has no <!-- bench:table --> markers: table not written');
    return;
  }
  writeFileSync(readme, text.replace(re, `$1${tableOf(date, rows)}\n$2`));
  console.log('README.md: table updated');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, rounds: { type: 'string' }, 'readme-from': { type: 'string' } },
  });
  if (values['readme-from'] !== undefined) {
    const saved = JSON.parse(readFileSync(values['readme-from'], 'utf8')) as {
      date: string;
      results: Record<string, BenchRecord>;
    };
    const rows = BENCHES.flatMap((b) => (saved.results[b.name] ? b.rows(saved.results[b.name]) : []));
    writeReadmeTable(saved.date, rows);
    return;
  }
  const only = values.only?.split(',');
  for (const name of only ?? []) {
    if (!BENCHES.some((b) => b.name === name))
      throw new BenchError(
        `--only: no benchmark ${name}; there are ${BENCHES.map((b) => b.name).join(', ')}`,
      );
  }
  const date = new Date().toISOString();
  const results: Record<string, BenchRecord> = {};
  const rows: Row[] = [];
  const failed: string[] = [];
  for (const bench of BENCHES.filter((b) => !only || only.includes(b.name))) {
    const file = join(ROOT, 'bench/results', `${bench.name}.jsonl`);
    const before = linesOf(file).length;
    console.log(`\n== ${bench.name}`);
    const t0 = performance.now();
    const r = await runNode(['--import', 'tsx', `bench/${bench.name}.ts`, ...bench.args(values.rounds)], {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    process.stdout.write(r.stdout);
    const added = linesOf(file).slice(before);
    if (r.code !== 0 || added.length === 0) {
      console.error(`${bench.name}: ${r.code !== 0 ? `failed (exit ${r.code})` : 'recorded nothing'}`);
      console.error(r.stderr.trimEnd().split('\n').slice(-10).join('\n'));
      failed.push(bench.name);
      continue;
    }
    const record = JSON.parse(added[added.length - 1] as string) as BenchRecord;
    results[bench.name] = record;
    rows.push(...bench.rows(record));
    console.log(`(${bench.name}: ${secs(performance.now() - t0)})`);
  }
  const chart = only ? undefined : await scalingChart();

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const out = join(ROOT, 'bench/results', `${date.slice(0, 10)}.json`);
  writeFileSync(
    out,
    `${JSON.stringify({ date, commit: gitCommit(), machine: machine(), results }, null, 2)}\n`,
  );
  console.log(`\n${tableOf(date, rows)}\n\nrecorded in ${out}${chart ? `; chart ${chart}` : ''}`);
  if (!only && failed.length === 0) writeReadmeTable(date, rows);
  if (failed.length > 0) throw new BenchError(`failed: ${failed.join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
