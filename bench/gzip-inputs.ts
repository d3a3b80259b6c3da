/**
 * Gzip-input benchmark: four gzip text files of about 10 MB each, counted with jobs/wordcount.ts
 * with default options (the local backend, one worker per core, the default split size), to see
 * whether the work is spread over the cores. A gzip stream cannot be entered mid-way, so each file
 * is one split; how the files are packed into tasks decides how many cores get work.
 *
 *   npm run bench:gzip -- [--rounds 3] [--mr <bin/mr.js>]
 *
 * The files (bench/data/gzip-inputs/, gitignored) are the word-count corpus at 88 MiB (8 files of
 * 11 MiB), gzipped two at a time: four gzip files of about 10 MB, each holding 22 MiB of text. Each round runs
 * `mr run --json` and prints the map tasks, the map and reduce phase times and the wall time from
 * spawn to exit, and the CPU time of the `mr` process. --mr runs another build of `mr` (a built
 * checkout) for A/B runs. A full run of this tree's `mr` appends a JSON line to
 * bench/results/gzip-inputs.jsonl.
 */
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
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  BenchError,
  CPU_REPORT,
  check,
  checkTotals,
  cpuMsOf,
  gitCommit,
  int,
  machine,
  median,
  parseJsonObject,
  ROOT,
  runNode,
  secs,
} from './child-run.js';
import { ensureCorpus } from './corpus.js';

const CORPUS = 'bench/data/gzip-inputs/corpus';
const INPUT = 'bench/data/gzip-inputs/gz';
const CORPUS_MIB = 88;
const FILES = 4;

/** Makes the four gzip files from the corpus, unless they are there for this corpus already. */
function ensureGzipInputs(): { files: { name: string; bytes: number }[]; tokens: number; distinct: number } {
  const corpus = ensureCorpus(join(ROOT, CORPUS), CORPUS_MIB).manifest;
  const dir = join(ROOT, INPUT);
  const stamp = join(dir, '_made-from.json');
  const want = JSON.stringify({ seed: corpus.seed, bytes: corpus.totalBytes, files: FILES });
  const names = Array.from({ length: FILES }, (_, i) => `part-${i}.txt.gz`);
  const fresh =
    existsSync(stamp) && readFileSync(stamp, 'utf8') === want && names.every((n) => existsSync(join(dir, n)));
  if (!fresh) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const per = corpus.files.length / FILES;
    for (let i = 0; i < FILES; i++) {
      const parts = corpus.files
        .slice(i * per, (i + 1) * per)
        .map((f) => readFileSync(join(ROOT, CORPUS, f.name)));
      writeFileSync(join(dir, names[i] as string), gzipSync(Buffer.concat(parts), { level: 6 }));
    }
    writeFileSync(stamp, want);
  }
  return {
    files: names.map((name) => ({ name, bytes: statSync(join(dir, name)).size })),
    tokens: corpus.tokens,
    distinct: corpus.distinct,
  };
}

interface RunFigures {
  wallMs: number;
  cpuMs: number;
  mapTasks: number;
  mapMs: number;
  reduceMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '3' }, mr: { type: 'string' } },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError('--rounds must be a positive integer');
  const mr = resolve(ROOT, values.mr ?? 'bin/mr.js');
  const jobFile = resolve(dirname(mr), '..', 'jobs', 'wordcount.ts');
  if (values.mr !== undefined) console.log(`mr: ${mr}`);

  const input = ensureGzipInputs();
  console.log(
    `input: ${INPUT}, ${input.files.map((f) => `${(f.bytes / 1e6).toFixed(1)} MB`).join(', ')} of gzip ` +
      `(${CORPUS_MIB} MiB of text, ${int(input.tokens)} tokens); ${availableParallelism()} cores, default options`,
  );
  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const runs: RunFigures[] = [];
  for (let round = 1; round <= rounds; round++) {
    const out = mkdtempSync(join(tmpdir(), 'fanout-bench-gzip-'));
    try {
      const r = await runNode([
        '--import',
        CPU_REPORT,
        mr,
        'run',
        jobFile,
        '--input',
        INPUT,
        '--output',
        join(out, 'out'),
        '--work',
        work,
        '--json',
        '--quiet',
      ]);
      check('mr run jobs/wordcount.ts', r);
      const stage = (parseJsonObject(r.stdout)?.stages as RunFigures[] | undefined)?.[0];
      if (!stage) throw new BenchError('could not read the stage figures from mr --json');
      const f: RunFigures = {
        wallMs: Math.round(r.ms),
        cpuMs: cpuMsOf(r) ?? Number.NaN,
        mapTasks: stage.mapTasks,
        mapMs: stage.mapMs,
        reduceMs: stage.reduceMs,
      };
      runs.push(f);
      if (round === 1) {
        checkTotals('mr run', join(out, 'out'), input);
      }
      console.log(
        `round ${round}: ${f.mapTasks} map tasks, map ${secs(f.mapMs)}, reduce ${secs(f.reduceMs)}, ` +
          `wall ${secs(f.wallMs)}, cpu ${secs(f.cpuMs)}`,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  const med = (k: keyof RunFigures) => Math.round(median(runs.map((f) => f[k])));
  const medians = {
    wallMs: med('wallMs'),
    cpuMs: med('cpuMs'),
    mapTasks: med('mapTasks'),
    mapMs: med('mapMs'),
    reduceMs: med('reduceMs'),
  };
  console.log(
    `median: ${medians.mapTasks} map tasks, map ${secs(medians.mapMs)}, reduce ${secs(medians.reduceMs)}, ` +
      `wall ${secs(medians.wallMs)}, cpu ${secs(medians.cpuMs)}`,
  );
  if (values.mr !== undefined) {
    console.log('(another build: nothing recorded)');
    return;
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  appendFileSync(
    join(ROOT, 'bench/results/gzip-inputs.jsonl'),
    `${JSON.stringify({ date: new Date().toISOString(), commit: gitCommit(), machine: machine(), input: input.files, rounds, runs, medians })}\n`,
  );
  console.log('recorded in bench/results/gzip-inputs.jsonl');
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
