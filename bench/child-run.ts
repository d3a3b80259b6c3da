/**
 * What the benchmarks share: running `node` as a child process timed from spawn to exit, reading
 * `mr --json`'s summary from its stdout, and the figures every record names (commit, machine).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A failure of the benchmark itself, printed as one line. */
export class BenchError extends Error {}

export interface ChildResult {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args` in the repository root; `ms` is spawn to exit. */
export function runNode(args: string[], env?: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env && { env: { ...process.env, ...env } }),
    });
    let ms = 0;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('exit', () => {
      ms = performance.now() - t0;
    });
    child.on('close', (code, signal) => {
      resolvePromise({
        ms,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/**
 * Preloaded into a child (`node --import`): at exit its main thread prints the CPU time of the whole
 * process, every thread, and its peak resident set to stderr. On a shared machine CPU time is steadier
 * than wall time; the peak RSS covers the driver and its worker threads, which share the process.
 */
export const CPU_REPORT = `data:text/javascript,${encodeURIComponent(
  "import { isMainThread } from 'node:worker_threads';\n" +
    "if (isMainThread) process.on('exit', () => process.stderr.write('\\nfanout-bench-cpu ' + JSON.stringify({ ...process.cpuUsage(), maxRssKb: process.resourceUsage().maxRSS }) + '\\n'));",
)}`;

function reportOf(r: ChildResult): { user: number; system: number; maxRssKb?: number } | undefined {
  const m = /^fanout-bench-cpu (\{.*\})$/m.exec(r.stderr);
  return m?.[1] ? (JSON.parse(m[1]) as { user: number; system: number; maxRssKb?: number }) : undefined;
}

/** The CPU time (user + system, ms) a child preloaded with CPU_REPORT printed, if it did. */
export function cpuMsOf(r: ChildResult): number | undefined {
  const u = reportOf(r);
  return u && Math.round((u.user + u.system) / 1000);
}

/** The peak RSS (MB, 10^6 bytes) a child preloaded with CPU_REPORT printed, if it did. */
export function rssMbOf(r: ChildResult): number | undefined {
  const kb = reportOf(r)?.maxRssKb;
  return kb === undefined ? undefined : Math.round((kb * 1024) / 1e6);
}

/** Throws a BenchError with the tail of its stderr unless the child exited with status 0. */
export function check(what: string, r: ChildResult): void {
  if (r.code === 0) return;
  const tail = r.stderr.trimEnd().split('\n').slice(-20).join('\n');
  throw new BenchError(`${what} failed (${r.signal ?? `exit code ${r.code}`}):\n${tail}`);
}

/** The last stdout line that parses as a JSON object (the whole stdout first), or undefined. */
export function parseJsonObject(stdout: string): Record<string, unknown> | undefined {
  const candidates = [stdout, ...stdout.trimEnd().split('\n').reverse()];
  for (const c of candidates) {
    try {
      const v: unknown = JSON.parse(c);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
export const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const int = (n: number): string => n.toLocaleString('en-US');

/** The commit benchmarked, `-dirty` when src/, bin/ or jobs/ have changes; null outside git. */
export function gitCommit(): string | null {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'jobs');
    return dirty === '' ? head : `${head}-dirty`;
  } catch {
    return null;
  }
}

/** The machine a record was made on. */
export function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? null,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Counts by word. */
export type Counts = Map<string, number>;

/** A word count's output (`{key, value}` lines in part-*.jsonl), each key once. */
export function readFanoutCounts(dir: string): Counts {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new BenchError(`verify: Fanout's output folder ${dir} is missing`);
  }
  const parts = names.filter((n) => /^part-.*\.jsonl$/.test(n)).sort();
  if (parts.length === 0) throw new BenchError(`verify: no part-*.jsonl in Fanout's output ${dir}`);
  const counts: Counts = new Map();
  for (const part of parts) {
    const lines = readFileSync(join(dir, part), 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      const rec = JSON.parse(line) as { key?: unknown; value?: unknown };
      if (typeof rec.key !== 'string' || typeof rec.value !== 'number') {
        throw new BenchError(`verify: ${part}:${i + 1}: expected {"key":string,"value":number}, got ${line}`);
      }
      if (counts.has(rec.key))
        throw new BenchError(`verify: Fanout emitted key ${JSON.stringify(rec.key)} twice`);
      counts.set(rec.key, rec.value);
    }
  }
  return counts;
}

/**
 * Checks a word count's output folder against its corpus's totals (every token counted once, every
 * distinct token present): throws a BenchError naming `what` otherwise.
 */
export function checkTotals(what: string, dir: string, corpus: { tokens: number; distinct: number }): void {
  const counts = readFanoutCounts(dir);
  let tokens = 0;
  for (const v of counts.values()) tokens += v;
  if (tokens !== corpus.tokens || counts.size !== corpus.distinct) {
    throw new BenchError(
      `verify: ${what}: ${tokens} tokens, ${counts.size} distinct; the corpus has ${corpus.tokens} and ${corpus.distinct}`,
    );
  }
}
