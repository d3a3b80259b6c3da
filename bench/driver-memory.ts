/**
 * Driver memory benchmark: the peak resident set of `mr run` over a plan of more than 100,000 map
 * tasks, against the same job and input cut into a handful of tasks. The input is the tiny-tasks
 * corpus (40 MiB, 8 files of 5 MiB under bench/data/tiny-tasks/, gitignored) run with
 * `--split-size 400` (104,858 tasks) and with the default split size (8 tasks, one per file).
 *
 *   npm run bench:driver-memory -- [--split-size 400] [--job wordcount]
 *
 * On the local backend the workers are threads of the driver's process, so the peak RSS printed (of
 * the whole process, every thread) bounds the driver's own. What the plan costs is the difference
 * between the two runs: the task list, the scheduler's state, the commit records and the progress of
 * 100,000 tasks. Both outputs are checked against the corpus totals. A full run appends a JSON line
 * to bench/results/driver-memory.jsonl.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BenchError,
  CPU_REPORT,
  check,
  checkTotals,
  gitCommit,
  int,
  machine,
  parseJsonObject,
  ROOT,
  rssMbOf,
  runNode,
  secs,
} from './child-run.js';
import { ensureCorpus } from './corpus.js';

const INPUT = 'bench/data/tiny-tasks';
const SIZE_MIB = 40;
const CONCURRENCY = 2;
const TARGET_MB = 300;

interface RunFigures {
  splitSize: string;
  mapTasks: number;
  wallMs: number;
  mapMs: number;
  reduceMs: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'split-size': { type: 'string', default: '400' },
      job: { type: 'string', default: 'wordcount' },
    },
  });
  const job = values.job;
  if (job !== 'wordcount' && job !== 'wordcount-js')
    throw new BenchError('--job must be wordcount or wordcount-js');
  const corpus = ensureCorpus(join(ROOT, INPUT), SIZE_MIB);
  const m = corpus.manifest;
  console.log(
    `input: ${INPUT}, ${m.files.length} files, ${SIZE_MIB} MiB, ${int(m.tokens)} tokens ` +
      (corpus.generated ? `(generated in ${secs(corpus.ms ?? 0)})` : '(cached)'),
  );
  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));

  const runOnce = async (splitSize: string | undefined): Promise<RunFigures> => {
    const out = mkdtempSync(join(tmpdir(), 'fanout-bench-dmem-'));
    try {
      const r = await runNode([
        '--import',
        CPU_REPORT,
        resolve(ROOT, 'bin/mr.js'),
        'run',
        resolve(ROOT, 'jobs', `${job}.ts`),
        '--input',
        INPUT,
        '--output',
        join(out, 'out'),
        ...(splitSize === undefined ? [] : ['--split-size', splitSize]),
        '--concurrency',
        String(CONCURRENCY),
        '--work',
        work,
        '--json',
        '--quiet',
      ]);
      check(`mr run jobs/${job}.ts`, r);
      const stage = (
        parseJsonObject(r.stdout)?.stages as { mapTasks: number; mapMs: number; reduceMs: number }[]
      )?.[0];
      const rss = rssMbOf(r);
      if (!stage || rss === undefined) throw new BenchError('could not read the figures of the run');
      checkTotals(`--split-size ${splitSize ?? 'default'}`, join(out, 'out'), m);
      return {
        splitSize: splitSize ?? 'default',
        mapTasks: stage.mapTasks,
        wallMs: Math.round(r.ms),
        mapMs: stage.mapMs,
        reduceMs: stage.reduceMs,
        peakRssMb: rss,
      };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };

  const show = (what: string, f: RunFigures) =>
    console.log(
      `${what}: ${int(f.mapTasks)} map tasks, map ${secs(f.mapMs)}, reduce ${secs(f.reduceMs)}, ` +
        `wall ${secs(f.wallMs)}, peak RSS ${int(f.peakRssMb)} MB`,
    );
  const few = await runOnce(undefined);
  show('baseline (default split size)', few);
  const many = await runOnce(values['split-size']);
  show(`--split-size ${values['split-size']}`, many);
  console.log(
    `peak RSS of the ${int(many.mapTasks)}-task plan: ${int(many.peakRssMb)} MB ` +
      `(${many.peakRssMb <= TARGET_MB ? 'within' : 'over'} the ${TARGET_MB} MB target), ` +
      `${int(many.peakRssMb - few.peakRssMb)} MB more than ${int(few.mapTasks)} tasks`,
  );
  const record = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: machine(),
    job,
    input: { bytes: m.totalBytes, files: m.files.length },
    concurrency: CONCURRENCY,
    baseline: few,
    plan: many,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  appendFileSync(join(ROOT, 'bench/results/driver-memory.jsonl'), `${JSON.stringify(record)}\n`);
  console.log('recorded in bench/results/driver-memory.jsonl');
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
