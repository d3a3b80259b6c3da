import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import type { BackendName } from '../backends/backends.js';
import type { ProgressEvent } from '../driver/progress.js';
import { resumeJob } from '../driver/resume-job.js';
import { type JobResult, runJob } from '../driver/run-job.js';
import type { RunOptions } from '../driver/run-options.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import type { OutputFormat } from '../output/output-spec.js';
import { isUrl } from '../store/open-store.js';
import { formatFaults } from '../task/faults.js';
import { heapSizer } from './heap-sizing.js';
import { fanInFlag, formatBytes, parseCount, parseSize } from './parse-size.js';
import { pricesFrom } from './prices-flag.js';
import { createProgressView } from './progress-view.js';

/** Flags of `mr run`, as commander hands them over (strings until parsed here). */
export interface RunFlags {
  input?: string[];
  output?: string;
  outputFormat?: string;
  outputCompression?: string;
  work?: string;
  concurrency?: string;
  partitions?: string;
  splitSize?: string;
  mergeFanIn?: string;
  maxAttempts?: string;
  memoryBudget?: string;
  taskTimeout?: string;
  allowIncomplete?: boolean;
  prices?: string;
  notify?: string[];
  backend?: string;
  function?: string;
  region?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Signals that cancel a run as Ctrl-C does. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Sample data shipped beside a job: `jobs/data/<job file name>/`, used when no --input is given. */
export function sampleInputFor(jobFile: string): string {
  return join(dirname(jobFile), 'data', basename(jobFile, extname(jobFile)));
}

/** `mr run`: parses flags into run options, runs the job, prints progress and a summary. */
export async function runCommand(jobArg: string, flags: RunFlags): Promise<JobResult> {
  const jobFile = resolve(jobArg);
  if (!existsSync(jobFile)) throw new UsageError(`job file not found: ${jobArg}`);
  let input = flags.input;
  if (!input || input.length === 0) {
    const sample = sampleInputFor(jobFile);
    if (!existsSync(sample)) {
      throw new UsageError(
        `no --input given and no sample data at ${relative(process.cwd(), sample) || sample}`,
      );
    }
    input = [sample];
  }
  const options = runOptionsFrom(input, flags);
  const result = await withProgress(flags, (extra) => runJob(jobFile, { ...options, ...extra }));
  // The folder mr chose is printed even with --quiet: nothing else says where the output went.
  if (flags.quiet && !flags.json && flags.output === undefined)
    process.stdout.write(`${outputFolderOf(result)}\n`);
  return result;
}

/** The run options the flags of `mr run` (and `mr submit`) ask for, each flag parsed and named. */
export function runOptionsFrom(input: string[], flags: RunFlags): RunOptions {
  return {
    input,
    // Checked by resolveOptions against the backends there are, as every option is.
    ...(flags.backend !== undefined && { backend: flags.backend as BackendName }),
    ...(flags.output !== undefined && { output: flags.output }),
    // Checked by resolveOptions, in one line naming the flag's value.
    ...(flags.outputFormat !== undefined && { outputFormat: flags.outputFormat as OutputFormat }),
    ...(flags.outputCompression !== undefined && {
      outputCompression: flags.outputCompression as 'gzip' | 'none',
    }),
    ...(flags.function !== undefined && { functionName: flags.function }),
    ...(flags.region !== undefined && { region: flags.region }),
    ...(flags.work !== undefined && { workDir: flags.work }),
    ...(flags.concurrency !== undefined && { concurrency: parseCount(flags.concurrency, '--concurrency') }),
    ...(flags.partitions !== undefined && { partitions: parseCount(flags.partitions, '--partitions') }),
    ...(flags.splitSize !== undefined && { splitSize: parseSize(flags.splitSize, '--split-size') }),
    ...(flags.mergeFanIn !== undefined && { mergeFanIn: fanInFlag(flags.mergeFanIn) }),
    ...(flags.maxAttempts !== undefined && { maxAttempts: parseCount(flags.maxAttempts, '--max-attempts') }),
    ...(flags.memoryBudget !== undefined && {
      memoryBudget: parseSize(flags.memoryBudget, '--memory-budget'),
    }),
    ...(flags.taskTimeout !== undefined && {
      taskTimeoutMs: parseDuration(flags.taskTimeout, '--task-timeout'),
    }),
    ...(flags.allowIncomplete && { allowIncomplete: true }),
    ...pricesFrom(flags.prices),
    ...(flags.notify !== undefined && { notify: flags.notify }),
  };
}

/** Flags of `mr resume`. */
export interface ResumeFlags {
  work?: string;
  json?: boolean;
  quiet?: boolean;
}

/** `mr resume <id>`: continues a stopped job, as `mr run` shows a run; a finished job is said so. */
export async function resumeCommand(jobId: string, flags: ResumeFlags): Promise<JobResult | undefined> {
  let finished: string | undefined;
  const result = await withProgress(flags, async (extra) => {
    const outcome = await resumeJob(jobId, {
      ...(flags.work !== undefined && { workDir: flags.work }),
      ...extra,
    });
    if (outcome.resumed) return outcome.result;
    finished = outcome.status.state;
    return undefined;
  });
  if (finished !== undefined) process.stdout.write(`job ${jobId} already ${finished}; nothing to resume\n`);
  return result;
}

/**
 * Runs a job with the progress view on stderr, the job id first (even with --quiet), Ctrl-C (or
 * SIGTERM, or the terminal closing) cancelling it cleanly (workers stop, the job's status says so, no
 * _SUCCESS; a second signal exits at once), and the summary (or --json) on stdout.
 */
async function withProgress<R extends JobResult | undefined>(
  flags: { json?: boolean; quiet?: boolean },
  run: (extra: { signal: AbortSignal; onProgress: (e: ProgressEvent) => void }) => Promise<R>,
): Promise<R> {
  const view = createProgressView(
    flags.quiet ? 'none' : flags.json ? 'warnings' : process.stderr.isTTY ? 'tty' : 'plain',
  );
  const cancel = new AbortController();
  const onSignal = () => {
    if (cancel.signal.aborted) process.exit(130);
    cancel.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const sizeHeaps = heapSizer();
  let result: R;
  try {
    result = await run({
      signal: cancel.signal,
      onProgress: (e) => {
        // The job's id comes first, even with --quiet: it names the job to look up, resume or clean.
        if (e.type === 'job-start') process.stderr.write(`job ${e.jobId}\n`);
        sizeHeaps(e);
        view.onEvent(e);
      },
    });
  } finally {
    view.stop();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  if (result === undefined) return result;
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (!flags.quiet) process.stdout.write(formatSummary(result));
  return result;
}

/** The output folder as printed: relative to here when it is below here. */
function outputFolderOf(r: JobResult): string {
  const where = isUrl(r.output) ? '' : relative(process.cwd(), r.output);
  return where && !where.startsWith('..') ? where : r.output;
}

function formatSummary(r: JobResult): string {
  const c = r.counters;
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `${r.jobId} succeeded in ${(r.wallMs / 1000).toFixed(2)} s`,
    `  input    ${n(c.inputFiles)} files, ${formatBytes(c.inputBytes)}, ${n(c.inputRecords)} records${c.badRecords > 0 ? ` (${n(c.badRecords)} bad records skipped, in _bad_records/)` : ''}`,
    `  shuffle  ${formatBytes(c.shuffleBytes)}${c.spills > 0 ? ` (${n(c.spills)} spills to disk)` : ''}`,
    `  output   ${n(c.outputRecords)} records in ${n(r.parts.length)} parts`,
    ...(r.cost
      ? [
          `  cost     about $${r.cost.usd.toFixed(r.cost.usd < 0.01 ? 5 : 3)} (Lambda ${r.cost.lambdaGbSeconds.toFixed(1)} GB-s in ${n(r.cost.invocations)} invocations; S3 about ${n(r.cost.s3Requests)} requests)`,
        ]
      : []),
    `  tasks    ${n(c.tasks)} (${n(c.retries)} retries${c.speculated > 0 ? `, ${n(c.speculated)} speculative copies` : ''}${c.mapsRerun > 0 ? `, ${n(c.mapsRerun)} map tasks run again for shuffle data that failed its checksum` : ''})`,
    ...(c.faults ? [`  faults   ${formatFaults(c.faults)} injected (FANOUT_FAULTS)`] : []),
    `  report   ${shortLocation(r.report)}`,
    `  output folder: ${outputFolderOf(r)}`,
    '',
  ].join('\n');
}

/** A local path relative to here when that is inside it; URLs as they are. */
function shortLocation(p: string): string {
  if (isUrl(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}
