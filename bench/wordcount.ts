/**
 * Word-count benchmark: Fanout (`mr run`, local backend) against DuckDB, all as child processes timed
 * from spawn to exit, all writing their result to disk, on a generated Zipf corpus.
 *
 *   npm run bench:wordcount -- [--rounds 3] [--size 256] [--job wordcount] [--variant csv-exact]
 *     [--only mr|duckdb]
 *
 * Each round runs two Fanout jobs: jobs/wordcount.ts (the built-in countTokens and sum, which the
 * engine runs over bytes) and jobs/wordcount-js.ts (the same job with its map and combine written in
 * JavaScript), then two DuckDB queries (see bench/duckdb-wordcount.ts): `csv-exact`, the fastest query found that
 * tokenizes any ASCII text by the job's rule (/\s+/), and `csv-split`, faster still but right only for
 * this corpus. It prints the median ratio of every job to every query. --job and --variant pick one;
 * --size is the corpus size in MiB (smaller for development); --only runs one tool (checked against
 * the corpus manifest only, nothing is recorded). A full run appends one JSON line to
 * bench/results/wordcount.jsonl.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BenchError,
  type ChildResult,
  type Counts,
  CPU_REPORT,
  check,
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
import { type CorpusManifest, ensureCorpus } from './corpus.js';

const INPUT = 'bench/data/wordcount';
const CONCURRENCY = 2;
const TOP = 20;
/** The Fanout jobs each round runs: the word count, and the same job written out in JavaScript. */
const JOBS = ['wordcount', 'wordcount-js'];

function readDuckdbCounts(file: string): Counts {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[0] !== 'word,count') throw new BenchError(`verify: unexpected header in ${file}: ${lines[0]}`);
  const counts: Counts = new Map();
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    // Words are lowercase letters only (see bench/corpus.ts), so no CSV quoting to undo.
    const comma = line.lastIndexOf(',');
    counts.set(line.slice(0, comma), Number(line.slice(comma + 1)));
  }
  return counts;
}

interface Summary {
  tokens: number;
  distinct: number;
  top: [string, number][];
}

function summarize(counts: Counts): Summary {
  let tokens = 0;
  for (const v of counts.values()) tokens += v;
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP);
  return { tokens, distinct: counts.size, top };
}

/** Returns a list of problems, empty when the outputs agree with each other and with the manifest. */
function compare(mr: Counts, duck: Counts, manifest: CorpusManifest): string[] {
  const problems: string[] = [];
  const a = summarize(mr);
  const b = summarize(duck);
  const row = (what: string, x: number, y: number, want: number) => {
    if (x !== y || x !== want) problems.push(`${what}: mr ${x}, duckdb ${y}, corpus ${want}`);
  };
  row('total tokens', a.tokens, b.tokens, manifest.tokens);
  row('distinct words', a.distinct, b.distinct, manifest.distinct);
  for (let i = 0; i < TOP; i++) {
    const x = a.top[i];
    const y = b.top[i];
    if (x?.[0] !== y?.[0] || x?.[1] !== y?.[1]) {
      problems.push(`top-${TOP} #${i + 1}: mr ${JSON.stringify(x)}, duckdb ${JSON.stringify(y)}`);
    }
  }
  let differing = 0;
  const examples: string[] = [];
  for (const key of new Set([...mr.keys(), ...duck.keys()])) {
    if (mr.get(key) !== duck.get(key)) {
      differing++;
      if (examples.length < 5)
        examples.push(`${JSON.stringify(key)}: mr ${mr.get(key)}, duckdb ${duck.get(key)}`);
    }
  }
  if (differing > 0) problems.push(`${differing} words with different counts, e.g. ${examples.join('; ')}`);
  return problems;
}

function checkAgainstManifest(who: string, counts: Counts, manifest: CorpusManifest): string[] {
  const s = summarize(counts);
  const problems: string[] = [];
  if (s.tokens !== manifest.tokens)
    problems.push(`${who} total tokens ${s.tokens}, corpus ${manifest.tokens}`);
  if (s.distinct !== manifest.distinct)
    problems.push(`${who} distinct ${s.distinct}, corpus ${manifest.distinct}`);
  return problems;
}

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      size: { type: 'string', default: '256' },
      variant: { type: 'string' },
      job: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const sizeMiB = Number(values.size);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BenchError(`--rounds must be a positive integer`);
  if (!(sizeMiB > 0)) throw new BenchError(`--size must be a positive number of MiB`);
  if (values.only !== undefined && values.only !== 'mr' && values.only !== 'duckdb') {
    throw new BenchError(`--only must be mr or duckdb`);
  }
  if (values.job !== undefined && !JOBS.includes(values.job)) {
    throw new BenchError(`--job must be one of ${JOBS.join(', ')}`);
  }
  const jobs = values.only === 'duckdb' ? [] : values.job ? [values.job] : JOBS;
  const variants = values.only === 'mr' ? [] : values.variant ? [values.variant] : ['csv-exact', 'csv-split'];

  const corpus = ensureCorpus(join(ROOT, INPUT), sizeMiB);
  const m = corpus.manifest;
  console.log(
    `corpus: ${INPUT}, ${m.files.length} files, ${(m.totalBytes / 2 ** 20).toFixed(0)} MiB, ` +
      `${int(m.tokens)} tokens, ${int(m.distinct)} distinct words ` +
      (corpus.generated ? `(generated in ${secs(corpus.ms ?? 0)})` : '(cached)'),
  );

  // Job state goes to a temporary folder kept for the whole run, not the repository's .fanout/. The
  // job bundle lives there too, so the first round bundles each job and later rounds reuse it, as
  // repeated runs of `mr run` do.
  const mrArgs = (job: string, out: string, work: string) => [
    '--import',
    CPU_REPORT,
    'bin/mr.js',
    'run',
    `jobs/${job}.ts`,
    '--input',
    INPUT,
    '--output',
    out,
    '--concurrency',
    String(CONCURRENCY),
    '--work',
    work,
    '--json',
    '--quiet',
  ];
  const duckArgs = (out: string, variant: string) => [
    '--import',
    CPU_REPORT,
    '--import',
    'tsx',
    'bench/duckdb-wordcount.ts',
    '--input',
    `${INPUT}/part-*.txt`,
    '--output',
    out,
    '--threads',
    String(CONCURRENCY),
    '--variant',
    variant,
  ];

  const mrMs = new Map<string, number[]>(jobs.map((j) => [j, []]));
  const duckMs = new Map<string, number[]>(variants.map((v) => [v, []]));
  const mrSummaries = new Map<string, Record<string, unknown> | null>();
  let duckInfo: Record<string, unknown> | undefined;
  /** Peak RSS (MB) of each job's and query's process, the largest over the rounds. */
  const peakRss = new Map<string, number>();
  const notePeak = (who: string, r: ChildResult) => {
    const mb = rssMbOf(r);
    if (mb !== undefined) peakRss.set(who, Math.max(peakRss.get(who) ?? 0, mb));
  };

  const work = mkdtempSync(join(tmpdir(), 'fanout-bench-work-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  for (let round = 1; round <= rounds; round++) {
    const tmp = mkdtempSync(join(tmpdir(), 'fanout-bench-wordcount-'));
    try {
      // The output folders do not exist yet: each tool creates its own.
      const line: string[] = [`round ${round}:`];
      for (const job of jobs) {
        const r = await runNode(mrArgs(job, join(tmp, job), work));
        check(`mr run jobs/${job}.ts`, r);
        mrMs.get(job)?.push(r.ms);
        notePeak(job, r);
        const summary = parseJsonObject(r.stdout);
        if (!summary)
          console.error(
            `  warning: could not parse mr --json stdout as a JSON object (${r.stdout.length} chars)`,
          );
        if (round === 1) mrSummaries.set(job, summary ?? null);
        line.push(`${job} ${secs(r.ms)}`);
      }
      for (const variant of variants) {
        const r = await runNode(duckArgs(join(tmp, `duckdb-${variant}`), variant));
        check(`duckdb-wordcount (${variant})`, r);
        duckMs.get(variant)?.push(r.ms);
        notePeak(`duckdb/${variant}`, r);
        duckInfo ??= parseJsonObject(r.stdout);
        line.push(`duckdb/${variant} ${secs(r.ms)}`);
      }
      console.log(line.join('  '));
      if (round === 1) verify(tmp, jobs, variants, m);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  const bytes = m.totalBytes;
  const medMr = new Map(jobs.map((j) => [j, median(mrMs.get(j) ?? [])] as const));
  const medDuck = new Map(variants.map((v) => [v, median(duckMs.get(v) ?? [])] as const));
  const parts: string[] = ['median:'];
  for (const [j, ms] of medMr) parts.push(`${j} ${secs(ms)} (${mbps(bytes, ms).toFixed(1)} MB/s)`);
  for (const [v, ms] of medDuck) parts.push(`duckdb/${v} ${secs(ms)} (${mbps(bytes, ms).toFixed(1)} MB/s)`);
  console.log(parts.join('  '));
  console.log(`peak RSS: ${[...peakRss].map(([who, mb]) => `${who} ${int(mb)} MB`).join('  ')}`);
  const ratios: Record<string, number> = {};
  for (const [j, jms] of medMr) {
    for (const [v, vms] of medDuck) {
      const r = +(jms / vms).toFixed(2);
      ratios[`${j}/${v}`] = r;
      const note =
        j === 'wordcount' && v === 'csv-exact' ? '  <- jobs/wordcount.ts against the exact query' : '';
      console.log(`ratio mr/duckdb (${j} / ${v}): ${r.toFixed(2)}${note}`);
    }
  }
  if (medMr.size === 0 || medDuck.size === 0) {
    console.log('(partial run: nothing recorded)');
    return;
  }

  const record = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: machine(),
    corpus: { bytes, files: m.files.length, tokens: m.tokens, distinct: m.distinct, zipfS: m.zipfS },
    concurrency: CONCURRENCY,
    rounds,
    duckdb: { variants, version: duckInfo?.duckdb ?? null },
    ms: {
      mr: Object.fromEntries([...mrMs].map(([j, xs]) => [j, xs.map(Math.round)])),
      duckdb: Object.fromEntries([...duckMs].map(([v, xs]) => [v, xs.map(Math.round)])),
    },
    medianMs: {
      mr: Object.fromEntries([...medMr].map(([j, x]) => [j, Math.round(x)])),
      duckdb: Object.fromEntries([...medDuck].map(([v, x]) => [v, Math.round(x)])),
    },
    ratio: ratios,
    peakRssMb: Object.fromEntries(peakRss),
    mrSummary: Object.fromEntries(mrSummaries),
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  appendFileSync(join(ROOT, 'bench/results/wordcount.jsonl'), `${JSON.stringify(record)}\n`);
  console.log('recorded in bench/results/wordcount.jsonl');
}

/**
 * First round only: every mr job's output must equal DuckDB's (each query's), and all must match the
 * corpus totals; with one tool only, its output is checked against the totals.
 */
function verify(tmp: string, jobs: string[], variants: string[], m: CorpusManifest): void {
  const outputs: [string, Counts][] = [
    ...jobs.map((j) => [`mr ${j}`, readFanoutCounts(join(tmp, j))] as [string, Counts]),
    ...variants.map(
      (v) => [`duckdb ${v}`, readDuckdbCounts(join(tmp, `duckdb-${v}`, 'counts.csv'))] as [string, Counts],
    ),
  ];
  const [first, ...rest] = outputs;
  if (!first) return;
  const problems = checkAgainstManifest(first[0], first[1], m);
  for (const [who, counts] of rest) {
    for (const p of compare(first[1], counts, m)) problems.push(`${first[0]} against ${who}: ${p}`);
  }
  if (problems.length > 0) throw new BenchError(`verify: outputs differ:\n  ${problems.join('\n  ')}`);
  console.log(
    `  verify: ${outputs.map(([who]) => who).join(', ')} agree on all ${int(m.distinct)} counts ` +
      `(${int(m.tokens)} tokens, top-${TOP} identical)`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `error: ${e.message}` : e);
  process.exit(1);
});
