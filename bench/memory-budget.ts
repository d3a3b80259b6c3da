/**
 * Memory-budget benchmark: a word count over 4.2 M distinct words, with `--memory-budget 16MiB` (map
 * tasks spill partitioned runs, reducers spill by key hash and reduce each partition file on its own)
 * against the default budget (256 MiB, the reducers hold everything), as child processes timed from
 * spawn to exit, alternating which runs first.
 *
 *   npm run bench:memory -- [--rounds 3] [--job wordcount|wordcount-js] [--budget 16MiB]
 *
 * The corpus (bench/data/distinct/, gitignored, made once): every word of a 4,200,000-word vocabulary
 * exactly 4 times, in a scrambled order, 10 words a line, in 8 files (about 150 MB). A word is 5
 * letters unique to it and 0-7 more, so no two are equal and no count depends on the order. Every
 * run's output is checked: 4.2 M keys, each counted 4 times. A full run appends a JSON line to
 * bench/results/memory-budget.jsonl.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BenchError,
  CPU_REPORT,
  check,
  cpuMsOf,
  gitCommit,
  int,
  machine,
  median,
  parseJsonObject,
  ROOT,
  readFanoutCounts,
  rssMbOf,
  runNode,
  secs,
} from './child-run.js';

const DIR = 'bench/data/distinct';
const VOCABULARY = 4_200_000;
const REPEATS = 4;
const FILES = 8;
const WORDS_PER_LINE = 10;
/** Coprime with VOCABULARY, so `i * STRIDE mod VOCABULARY` visits every word once per pass. */
const STRIDE = 1_000_003;
const GENERATOR_VERSION = 1;

interface Manifest {
  version: number;
  vocabulary: number;
  repeats: number;
  bytes: number;
}

/** Word `x`: five letters that spell x in base 26, then 0-7 letters from a hash of it. */
function word(x: number): string {
  let s = '';
  let v = x;
  for (let i = 0; i < 5; i++) {
    s += String.fromCharCode(97 + (v % 26));
    v = Math.floor(v / 26);
  }
  let h = Math.imul(x ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  const extra = h & 7;
  for (let i = 0; i < extra; i++) {
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    s += String.fromCharCode(97 + (h % 26));
  }
  return s;
}

function ensureCorpus(dir: string): Manifest {
  const manifestPath = join(dir, '_corpus.json');
  if (existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (m.version === GENERATOR_VERSION && m.vocabulary === VOCABULARY && m.repeats === REPEATS) return m;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const total = VOCABULARY * REPEATS;
  const perFile = Math.ceil(total / FILES);
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const fd = openSync(join(dir, `part-${String(f).padStart(2, '0')}.txt`), 'w');
    let line: string[] = [];
    let chunk = '';
    for (let j = f * perFile; j < Math.min(total, (f + 1) * perFile); j++) {
      const pass = Math.floor(j / VOCABULARY);
      line.push(word(((j % VOCABULARY) * STRIDE + pass * 7919) % VOCABULARY));
      if (line.length === WORDS_PER_LINE) {
        chunk += `${line.join(' ')}\n`;
        line = [];
        if (chunk.length > 1 << 20) {
          bytes += writeSync(fd, chunk);
          chunk = '';
        }
      }
    }
    if (line.length > 0) chunk += `${line.join(' ')}\n`;
    bytes += writeSync(fd, chunk);
    closeSync(fd);
  }
  const m: Manifest = { version: GENERATOR_VERSION, vocabulary: VOCABULARY, repeats: REPEATS, bytes };
  writeFileSync(manifestPath, `${JSON.stringify(m)}\n`);
  console.log(`corpus generated in ${secs(performance.now() - t0)}`);
  return m;
}

function verify(out: string): void {
  const counts = readFanoutCounts(out);
  if (counts.size !== VOCABULARY)
    throw new BenchError(`verify: ${int(counts.size)} keys, expected ${int(VOCABULARY)}`);
  for (const [k, v] of counts) {
    if (v !== REPEATS)
      throw new BenchError(`verify: ${JSON.stringify(k)} counted ${v} times, expected ${REPEATS}`);
  }
}

interface Figures {
  wallMs: number;
  mapMs: number;
  reduceMs: number;
  spills: number;
  rssMb: number;
  /** CPU time of the whole `mr` process: steadier than wall time on a shared machine. */
  cpuMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      job: { type: 'string', default: 'wordcount' },
      budget: { type: 'string', default: '16MiB' },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError('--rounds must be a positive integer');
  if (values.job !== 'wordcount' && values.job !== 'wordcount-js') {
    throw new BenchError('--job must be wordcount or wordcount-js');
  }
  const m = ensureCorpus(join(ROOT, DIR));
  console.log(
    `corpus: ${DIR}, ${(m.bytes / 1e6).toFixed(0)} MB, ${int(VOCABULARY)} distinct words x ${REPEATS}; ` +
      `jobs/${values.job}.ts, 2 workers, --memory-budget ${values.budget} against the default`,
  );
  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const budgets = [values.budget, 'default'];
  const runs = new Map<string, Figures[]>(budgets.map((b) => [b, []]));
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? budgets : [...budgets].reverse();
    const line = [`round ${round}:`];
    for (const budget of order) {
      const out = join(work, `out-${round}-${budget}`);
      const r = await runNode([
        ...['--import', CPU_REPORT, 'bin/mr.js', 'run', `jobs/${values.job}.ts`, '--input', DIR],
        ...['--output', out, '--concurrency', '2', '--work', work, '--json', '--quiet'],
        ...(budget === 'default' ? [] : ['--memory-budget', budget]),
      ]);
      check(`mr run (${budget})`, r);
      const summary = parseJsonObject(r.stdout) as
        | { counters: { spills: number }; stages: { mapMs: number; reduceMs: number }[] }
        | undefined;
      const stage = summary?.stages[0];
      if (!summary || !stage) throw new BenchError('could not read mr --json');
      if (round === 1) verify(out);
      rmSync(out, { recursive: true, force: true });
      const f: Figures = {
        wallMs: Math.round(r.ms),
        mapMs: stage.mapMs,
        reduceMs: stage.reduceMs,
        spills: summary.counters.spills,
        rssMb: rssMbOf(r) ?? Number.NaN,
        cpuMs: cpuMsOf(r) ?? Number.NaN,
      };
      runs.get(budget)?.push(f);
      line.push(
        `${budget}: ${secs(f.wallMs)} (map ${secs(f.mapMs)}, reduce ${secs(f.reduceMs)}, ` +
          `cpu ${secs(f.cpuMs)}, ${f.spills} spills, ${f.rssMb} MB peak)`,
      );
    }
    console.log(line.join('  '));
  }
  const med = (b: string, k: keyof Figures) => median((runs.get(b) ?? []).map((f) => f[k]));
  const ratio = +(med(values.budget, 'wallMs') / med('default', 'wallMs')).toFixed(2);
  const cpuRatio = +(med(values.budget, 'cpuMs') / med('default', 'cpuMs')).toFixed(2);
  console.log(
    `median: ${values.budget} ${secs(med(values.budget, 'wallMs'))} (${med(values.budget, 'rssMb')} MB peak), ` +
      `default ${secs(med('default', 'wallMs'))} (${med('default', 'rssMb')} MB peak); ` +
      `ratio ${ratio.toFixed(2)} (CPU time ${cpuRatio.toFixed(2)})`,
  );
  const record = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: machine(),
    job: values.job,
    corpus: { bytes: m.bytes, distinct: VOCABULARY, repeats: REPEATS },
    budget: values.budget,
    rounds,
    runs: Object.fromEntries(runs),
    ratio,
    cpuRatio,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  appendFileSync(join(ROOT, 'bench/results/memory-budget.jsonl'), `${JSON.stringify(record)}\n`);
  console.log('recorded in bench/results/memory-budget.jsonl');
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
