/**
 * Sort benchmark: `mr run jobs/sort.ts` (local backend, 2 workers) against `LC_ALL=C sort
 * --parallel=2 -S 1G` on the same file of Sort Benchmark records (bench/sort-gen.ts), both as child
 * processes timed from spawn to exit, both writing their output to disk. Rounds alternate which runs
 * first. The first round's outputs are checked (bench/sort-check.ts): every record of the input once,
 * in key order, within and across part files.
 *
 *   npm run bench:sort -- [--rounds 3] [--size 256] [--partitions 64] [--only mr|sort]
 *
 * `--size` is in MiB. A full run appends one JSON line to bench/results/sort.jsonl.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkSortOutput, inputSum, type RecordSum } from './sort-check.js';
import { generateRecords, RECORD_BYTES, recordsIn } from './sort-gen.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'bench/data/sort');
const CONCURRENCY = 2;
const SEED = 1;

class BenchError extends Error {}

interface ChildResult {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** CPU seconds of the child and what it waited for, from /usr/bin/time when present. */
  cpu?: { user: number; sys: number };
}

const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);

/** Runs `command ...args` in the repository root; `ms` is spawn to exit. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  const [cmd, argv] = hasTime ? [TIME, ['-f', '\n__cpu %U %S', command, ...args]] : [command, args];
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      let stderr = Buffer.concat(err).toString('utf8');
      let cpu: ChildResult['cpu'];
      const m = /\n__cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      if (m) {
        cpu = { user: Number(m[1]), sys: Number(m[2]) };
        stderr = stderr.slice(0, m.index);
      }
      resolvePromise({
        ms,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
        ...(cpu && { cpu }),
      });
    });
  });
}

function check(what: string, r: ChildResult): void {
  if (r.code === 0) return;
  const tail = r.stderr.trimEnd().split('\n').slice(-20).join('\n');
  throw new BenchError(`${what} failed (${r.signal ?? `exit code ${r.code}`}):\n${tail}`);
}

/** The input file for `sizeMiB`, generated once from the seed and again when missing or resized. */
function ensureInput(sizeMiB: number): { file: string; records: number; generated: boolean; ms: number } {
  const records = recordsIn(sizeMiB);
  const file = join(DATA, `records-${sizeMiB}MiB.txt`);
  const manifest = `${file}.json`;
  const want = { records, bytes: records * RECORD_BYTES, seed: SEED };
  const same = (() => {
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as typeof want;
      return m.records === want.records && m.seed === want.seed && statSync(file).size === want.bytes;
    } catch {
      return false;
    }
  })();
  if (same) return { file, records, generated: false, ms: 0 };
  const t0 = performance.now();
  mkdirSync(DATA, { recursive: true });
  generateRecords(file, records, SEED);
  writeFileSync(manifest, JSON.stringify(want));
  return { file, records, generated: true, ms: performance.now() - t0 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

function gitCommit(): string | null {
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

/** Throws unless `output` holds every record of the input once, in key order. */
function verify(who: string, output: string, expected: RecordSum): void {
  const r = checkSortOutput(output, expected);
  if (r.problems.length > 0) throw new BenchError(`verify ${who}: ${r.problems.join('; ')}`);
  console.log(
    `  verify ${who}: ${r.records.toLocaleString('en-US')} records in ${r.parts} part(s), sorted, checksum ${r.checksum}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      size: { type: 'string', default: '256' },
      partitions: { type: 'string', default: '64' },
      only: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const sizeMiB = Number(values.size);
  const partitions = Number(values.partitions);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError('--rounds must be a positive integer');
  if (!(sizeMiB > 0)) throw new BenchError('--size must be a positive number of MiB');
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new BenchError('--partitions must be a positive integer');
  if (values.only !== undefined && values.only !== 'mr' && values.only !== 'sort') {
    throw new BenchError('--only must be mr or sort');
  }
  const tools = values.only ? [values.only] : ['mr', 'sort'];

  const input = ensureInput(sizeMiB);
  const bytes = input.records * RECORD_BYTES;
  console.log(
    `input: ${input.file}, ${input.records.toLocaleString('en-US')} records, ${(bytes / 2 ** 20).toFixed(0)} MiB ` +
      (input.generated ? `(generated in ${secs(input.ms)})` : '(cached)'),
  );
  const expected = inputSum([input.file]);

  // Job state and the job bundle live in one folder for the whole run: the first round bundles the
  // job, later rounds reuse the bundle, as repeated `mr run`s do.
  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-sort-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const mrArgs = (out: string) => [
    'bin/mr.js',
    'run',
    'jobs/sort.ts',
    '--input',
    input.file,
    '--output',
    out,
    '--concurrency',
    String(CONCURRENCY),
    '--partitions',
    String(partitions),
    '--work',
    work,
    '--json',
    '--quiet',
  ];
  const sortArgs = (out: string) => [`--parallel=${CONCURRENCY}`, '-S', '1G', input.file, '-o', out];

  const ms: Record<string, number[]> = { mr: [], sort: [] };
  const cpu: Record<string, number[]> = { mr: [], sort: [] };
  const loads: number[] = [];
  let mrSummary: unknown = null;
  for (let round = 1; round <= rounds; round++) {
    const tmp = mkdtempSync(join(tmpdir(), 'fanout-bench-sort-'));
    try {
      // Odd rounds run mr first, even rounds sort first: neither always gets the warmer page cache.
      const order = round % 2 === 1 ? tools : [...tools].reverse();
      const line: string[] = [`round ${round}:`];
      loads.push(loadavg()[0] as number);
      for (const tool of order) {
        // The other tool's output is written back first, outside either one's time.
        spawnSync('sync');
        const r =
          tool === 'mr'
            ? await run(process.execPath, mrArgs(join(tmp, 'mr')))
            : await run('sort', sortArgs(join(tmp, 'sort.txt')), { ...process.env, LC_ALL: 'C' });
        check(tool === 'mr' ? 'mr run jobs/sort.ts' : 'sort', r);
        ms[tool]?.push(r.ms);
        if (r.cpu) cpu[tool]?.push(+(r.cpu.user + r.cpu.sys).toFixed(2));
        if (tool === 'mr' && round === 1) {
          try {
            mrSummary = JSON.parse(r.stdout);
          } catch {
            mrSummary = null;
          }
        }
        line.push(`${tool} ${secs(r.ms)}${r.cpu ? ` (cpu ${(r.cpu.user + r.cpu.sys).toFixed(1)} s)` : ''}`);
      }
      console.log(line.join('  '));
      if (round === 1) {
        if (tools.includes('mr')) verify('mr', join(tmp, 'mr'), expected);
        if (tools.includes('sort')) verify('sort', join(tmp, 'sort.txt'), expected);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  const med = Object.fromEntries(tools.map((t) => [t, median(ms[t] ?? [])]));
  console.log(
    `median: ${tools.map((t) => `${t} ${secs(med[t] as number)} (${mbps(bytes, med[t] as number).toFixed(1)} MB/s)`).join('  ')}`,
  );
  if (tools.length < 2) {
    console.log('(one tool only: nothing recorded)');
    return;
  }
  const ratio = +((med.mr as number) / (med.sort as number)).toFixed(2);
  console.log(`ratio mr/sort: ${ratio.toFixed(2)} (the issue asks for at most 2)`);
  const record = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? null,
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadavg1: loads.map((l) => +l.toFixed(2)),
    },
    input: { bytes, records: input.records, seed: SEED },
    concurrency: CONCURRENCY,
    partitions,
    rounds,
    ms: Object.fromEntries(tools.map((t) => [t, (ms[t] ?? []).map(Math.round)])),
    cpuSeconds: Object.fromEntries(tools.map((t) => [t, cpu[t] ?? []])),
    medianMs: Object.fromEntries(tools.map((t) => [t, Math.round(med[t] as number)])),
    ratio,
    mrSummary,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  appendFileSync(join(ROOT, 'bench/results/sort.jsonl'), `${JSON.stringify(record)}\n`);
  console.log('recorded in bench/results/sort.jsonl');
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
