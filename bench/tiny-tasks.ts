/**
 * Tiny-task benchmark: 10,240 map tasks of 4 KiB each through the local pool (2 worker threads), to
 * measure what every task costs beyond its work. The input is the word-count corpus at 40 MiB (8
 * files of 5 MiB under bench/data/tiny-tasks/, gitignored) run with `--split-size 4KiB`: each file
 * is cut into 1,280 splits of exactly 4 KiB, and a split as large as the split size is a task of its
 * own, so the map phase runs 10,240 tasks.
 *
 *   npm run bench:tiny-tasks -- [--rounds 3] [--job wordcount] [--cpu-prof <dir>] [--mr <bin/mr.js>]
 *
 * Each round runs jobs/wordcount.ts and jobs/wordcount-js.ts with `mr run --json` and prints, from
 * its summary, the map tasks per second of the map phase, the map phase's and the reduce phase's
 * times, the wall time from spawn to exit and the CPU time of the `mr` process (all its threads;
 * steadier than wall time on a shared machine). --cpu-prof writes V8 CPU profiles of the driver and
 * of each worker thread (node --cpu-prof) into a folder. --mr runs another build of `mr` (say a
 * checkout of the commit before a change, built) with the jobs beside it, for A/B runs. A full run of
 * this tree's `mr` appends one JSON line to bench/results/tiny-tasks.jsonl.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BenchError,
  type ChildResult,
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

const INPUT = 'bench/data/tiny-tasks';
const SIZE_MIB = 40;
const SPLIT = '4KiB';
const CONCURRENCY = 2;
const JOBS = ['wordcount', 'wordcount-js'];

/** What one run's `--json` summary says of its one stage. */
interface RunFigures {
  wallMs: number;
  /** CPU time of the whole `mr` process (driver and workers, user and system). */
  cpuMs: number;
  mapTasks: number;
  mapMs: number;
  reduceMs: number;
  tasksPerSecond: number;
}

function figuresOf(summary: Record<string, unknown> | undefined, r: ChildResult): RunFigures {
  const stage = (summary?.stages as { mapTasks: number; mapMs: number; reduceMs: number }[] | undefined)?.[0];
  if (!stage) throw new BenchError('could not read the stage figures from mr --json');
  return {
    wallMs: Math.round(r.ms),
    cpuMs: cpuMsOf(r) ?? Number.NaN,
    mapTasks: stage.mapTasks,
    mapMs: stage.mapMs,
    reduceMs: stage.reduceMs,
    tasksPerSecond: Math.round(stage.mapTasks / (stage.mapMs / 1000)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      job: { type: 'string' },
      'cpu-prof': { type: 'string' },
      mr: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError('--rounds must be a positive integer');
  if (values.job !== undefined && !JOBS.includes(values.job))
    throw new BenchError(`--job must be one of ${JOBS.join(', ')}`);
  const jobs = values.job ? [values.job] : JOBS;
  const profDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  const mr = resolve(ROOT, values.mr ?? 'bin/mr.js');
  const jobFile = (job: string) => resolve(dirname(mr), '..', 'jobs', `${job}.ts`);
  if (values.mr !== undefined) console.log(`mr: ${mr}`);

  const corpus = ensureCorpus(join(ROOT, INPUT), SIZE_MIB);
  const m = corpus.manifest;
  console.log(
    `input: ${INPUT}, ${m.files.length} files, ${SIZE_MIB} MiB, --split-size ${SPLIT}: ` +
      `${int(m.totalBytes / 4096)} map tasks of 4 KiB, ${int(m.tokens)} tokens ` +
      (corpus.generated ? `(generated in ${secs(corpus.ms ?? 0)})` : '(cached)'),
  );

  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const figures = new Map<string, RunFigures[]>(jobs.map((j) => [j, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const job of jobs) {
      const out = mkdtempSync(join(tmpdir(), 'fanout-bench-tiny-'));
      try {
        const prof = profDir ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, `${job}-${round}`)] : [];
        const r = await runNode([
          '--import',
          CPU_REPORT,
          ...prof,
          mr,
          'run',
          jobFile(job),
          '--input',
          INPUT,
          '--output',
          join(out, 'out'),
          '--split-size',
          SPLIT,
          '--concurrency',
          String(CONCURRENCY),
          '--work',
          work,
          '--json',
          '--quiet',
        ]);
        check(`mr run jobs/${job}.ts`, r);
        const f = figuresOf(parseJsonObject(r.stdout), r);
        figures.get(job)?.push(f);
        if (round === 1) checkTotals(job, join(out, 'out'), m);
        console.log(
          `round ${round} ${job}: ${int(f.mapTasks)} map tasks, map ${secs(f.mapMs)} ` +
            `(${int(Math.round(f.tasksPerSecond))} tasks/s), reduce ${secs(f.reduceMs)}, wall ${secs(f.wallMs)}, cpu ${secs(f.cpuMs)}`,
        );
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
  }

  const medians: Record<string, RunFigures> = {};
  for (const [job, fs] of figures) {
    const med = (k: keyof RunFigures) => median(fs.map((f) => f[k]));
    medians[job] = {
      wallMs: Math.round(med('wallMs')),
      cpuMs: Math.round(med('cpuMs')),
      mapTasks: med('mapTasks'),
      mapMs: med('mapMs'),
      reduceMs: med('reduceMs'),
      tasksPerSecond: Math.round(med('tasksPerSecond')),
    };
    const x = medians[job];
    console.log(
      `median ${job}: ${int(x.tasksPerSecond)} map tasks/s, map ${secs(x.mapMs)}, ` +
        `reduce ${secs(x.reduceMs)}, wall ${secs(x.wallMs)}, cpu ${secs(x.cpuMs)}`,
    );
  }
  if (profDir) console.log(`CPU profiles (driver and worker threads) in ${profDir}`);
  if (values.job !== undefined || profDir || values.mr !== undefined) {
    console.log('(partial or profiled run: nothing recorded)');
    return;
  }
  const record = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: machine(),
    input: { bytes: m.totalBytes, files: m.files.length, splitSize: SPLIT },
    concurrency: CONCURRENCY,
    rounds,
    runs: Object.fromEntries(figures),
    medians,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  appendFileSync(join(ROOT, 'bench/results/tiny-tasks.jsonl'), `${JSON.stringify(record)}\n`);
  console.log('recorded in bench/results/tiny-tasks.jsonl');
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
