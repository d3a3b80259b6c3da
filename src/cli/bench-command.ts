import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join, relative, resolve } from 'node:path';
import { type BackendName, backendNamed } from '../backends/backends.js';
import { writeBenchFiles } from '../bench/bench-files.js';
import { formatBenchTable } from '../bench/bench-table.js';
import { type BenchEvent, type BenchResult, runBench } from '../bench/run-bench.js';
import { idTime } from '../driver/run-job.js';
import { UsageError } from '../errors.js';
import { isUrl } from '../store/open-store.js';
import { parseCount, parseCountList, parseSize } from './parse-size.js';

/** Flags of `mr bench`, as commander hands them over (strings until parsed here). */
export interface BenchFlags {
  input?: string[];
  outputDir?: string;
  concurrency?: string;
  repeat?: string;
  warmup?: string;
  backend?: string;
  function?: string;
  region?: string;
  work?: string;
  splitSize?: string;
  partitions?: string;
  memory?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Signals that cancel a bench as Ctrl-C does. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The default concurrencies: powers of two up to the cores, and the core count itself. */
export function defaultConcurrencies(cores = availableParallelism()): number[] {
  const levels: number[] = [];
  for (let c = 1; c <= cores; c *= 2) levels.push(c);
  if (levels[levels.length - 1] !== cores) levels.push(cores);
  return levels;
}

/**
 * `mr bench`: runs a job at each concurrency, checks their outputs agree, prints the table (or
 * `--json`) on stdout, a line per run on stderr, and writes `bench.json` and `bench.svg` into
 * `--output-dir` (or a fresh `out/bench-<job>-<time>/`).
 */
export async function benchCommand(jobArg: string, flags: BenchFlags): Promise<BenchResult> {
  const jobFile = resolve(jobArg);
  if (!existsSync(jobFile)) throw new UsageError(`job file not found: ${jobArg}`);
  if (!flags.input || flags.input.length === 0) {
    throw new UsageError('no --input given: name the files, folders or globs to bench the job over');
  }
  const concurrency =
    flags.concurrency === undefined
      ? defaultConcurrencies()
      : parseCountList(flags.concurrency, '--concurrency');
  const backend = (flags.backend ?? 'local') as BackendName;
  if (backendNamed(backend).remote && flags.outputDir === undefined) {
    throw new UsageError(`--backend ${backend} needs --output-dir s3://bucket/prefix/ for the runs' outputs`);
  }
  const reportDir =
    flags.outputDir ?? join('out', `bench-${basename(jobFile, extname(jobFile))}-${idTime()}`);
  const cancel = new AbortController();
  const onSignal = () => {
    if (cancel.signal.aborted) process.exit(130);
    cancel.abort();
  };
  const warned = new Set<string>();
  const onProgress = (e: BenchEvent) => {
    if (e.type === 'warning') {
      if (!warned.has(e.message)) process.stderr.write(`mr: warning: ${e.message}\n`);
      warned.add(e.message);
    } else if (!flags.quiet) {
      process.stderr.write(
        e.repeat === undefined
          ? `bench: warm-up ${e.index}/${e.total} (concurrency ${e.concurrency})\n`
          : `bench: run ${e.index}/${e.total} (concurrency ${e.concurrency}, repeat ${e.repeat})\n`,
      );
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let bench: BenchResult;
  try {
    bench = await runBench(jobFile, {
      input: flags.input,
      concurrency,
      backend,
      onProgress,
      signal: cancel.signal,
      ...(flags.repeat !== undefined && { repeat: parseCount(flags.repeat, '--repeat') }),
      ...(flags.warmup !== undefined && { warmup: parseCount(flags.warmup, '--warmup', 0) }),
      ...(flags.outputDir !== undefined && { outputDir: flags.outputDir }),
      ...(flags.function !== undefined && { functionName: flags.function }),
      ...(flags.region !== undefined && { region: flags.region }),
      ...(flags.work !== undefined && { workDir: flags.work }),
      ...(flags.splitSize !== undefined && { splitSize: parseSize(flags.splitSize, '--split-size') }),
      ...(flags.partitions !== undefined && { partitions: parseCount(flags.partitions, '--partitions') }),
      ...(flags.memory !== undefined && { memoryMb: parseCount(flags.memory, '--memory', 128) }),
    });
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  const wrote = await writeBenchFiles(reportDir, bench);
  if (flags.json) process.stdout.write(`${JSON.stringify(bench)}\n`);
  else process.stdout.write(formatBenchTable(bench));
  if (!flags.quiet)
    process.stderr.write(`bench: wrote ${shortPath(wrote.json)} and ${shortPath(wrote.svg)}\n`);
  return bench;
}

function shortPath(location: string): string {
  if (isUrl(location)) return location;
  const rel = relative(process.cwd(), location);
  return rel && !rel.startsWith('..') ? rel : location;
}
