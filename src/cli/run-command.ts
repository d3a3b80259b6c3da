import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import type { BackendName } from '../backends/backends.js';
import { type JobResult, runJob } from '../driver/run-job.js';
import type { RunOptions } from '../driver/run-options.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { isUrl } from '../store/open-store.js';
import { formatBytes, parseCount, parseSize } from './parse-size.js';
import { createProgressView } from './progress-view.js';

/** Flags of `mr run`, as commander hands them over (strings until parsed here). */
export interface RunFlags {
  input?: string[];
  output?: string;
  work?: string;
  concurrency?: string;
  partitions?: string;
  splitSize?: string;
  maxAttempts?: string;
  memoryBudget?: string;
  taskTimeout?: string;
  allowIncomplete?: boolean;
  backend?: string;
  function?: string;
  region?: string;
  json?: boolean;
  quiet?: boolean;
}

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
  const options: RunOptions = {
    input,
    // Checked by resolveOptions against the backends there are, as every option is.
    ...(flags.backend !== undefined && { backend: flags.backend as BackendName }),
    ...(flags.output !== undefined && { output: flags.output }),
    ...(flags.function !== undefined && { functionName: flags.function }),
    ...(flags.region !== undefined && { region: flags.region }),
    ...(flags.work !== undefined && { workDir: flags.work }),
    ...(flags.concurrency !== undefined && { concurrency: parseCount(flags.concurrency, '--concurrency') }),
    ...(flags.partitions !== undefined && { partitions: parseCount(flags.partitions, '--partitions') }),
    ...(flags.splitSize !== undefined && { splitSize: parseSize(flags.splitSize, '--split-size') }),
    ...(flags.maxAttempts !== undefined && { maxAttempts: parseCount(flags.maxAttempts, '--max-attempts') }),
    ...(flags.memoryBudget !== undefined && {
      memoryBudget: parseSize(flags.memoryBudget, '--memory-budget'),
    }),
    ...(flags.taskTimeout !== undefined && {
      taskTimeoutMs: parseDuration(flags.taskTimeout, '--task-timeout'),
    }),
    ...(flags.allowIncomplete && { allowIncomplete: true }),
  };
  const view = createProgressView(
    flags.quiet ? 'none' : flags.json ? 'warnings' : process.stderr.isTTY ? 'tty' : 'plain',
  );
  // Ctrl-C cancels the run cleanly (workers stop, no _SUCCESS); a second Ctrl-C exits at once.
  const cancel = new AbortController();
  const onSigint = () => {
    if (cancel.signal.aborted) process.exit(130);
    cancel.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let result: JobResult;
  try {
    result = await runJob(jobFile, { ...options, signal: cancel.signal, onProgress: (e) => view.onEvent(e) });
  } finally {
    view.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (!flags.quiet) process.stdout.write(formatSummary(result));
  return result;
}

function formatSummary(r: JobResult): string {
  const c = r.counters;
  const n = (x: number) => x.toLocaleString('en-US');
  const where = isUrl(r.output) ? '' : relative(process.cwd(), r.output);
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
    `  tasks    ${n(c.tasks)} (${n(c.retries)} retries${c.speculated > 0 ? `, ${n(c.speculated)} speculative copies` : ''})`,
    `  output folder: ${where && !where.startsWith('..') ? where : r.output}`,
    '',
  ].join('\n');
}
