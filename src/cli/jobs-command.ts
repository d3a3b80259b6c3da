import { relative } from 'node:path';
import { DEFAULT_FUNCTION_NAME, DEFAULT_WORK_DIR } from '../backends/backends.js';
import { functionLogLines } from '../backends/cloudwatch-logs.js';
import { cleanJob, isFinished, type JobEntry, jobExists, listJobs } from '../driver/job-list.js';
import { listTaskLogs, type PhaseProgress, readJobProgress } from '../driver/job-progress.js';
import { JobState } from '../driver/job-state.js';
import { formatDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { isUrl, openStore } from '../store/open-store.js';
import { formatBytes } from './parse-size.js';

/** Flags of `mr jobs` and `mr clean`. */
export interface JobsFlags {
  work?: string;
  json?: boolean;
  finished?: boolean;
}

/** `mr jobs`: every job in the work store, one line each (or JSON), oldest first. */
export async function jobsCommand(flags: JobsFlags): Promise<void> {
  const jobs = await listJobs(openStore(flags.work ?? DEFAULT_WORK_DIR));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(jobs)}\n`);
    return;
  }
  if (jobs.length === 0) {
    process.stdout.write(`no jobs in ${flags.work ?? DEFAULT_WORK_DIR}\n`);
    return;
  }
  const rows = jobs.map((j) => [
    j.jobId,
    j.state,
    j.startedAt?.replace('T', ' ').slice(0, 19) ?? '-',
    j.durationMs === undefined ? '-' : formatDuration(j.durationMs),
    (j.input ?? []).map(shortPath).join(' ') || '-',
    j.output === undefined ? '-' : shortPath(j.output),
    formatBytes(j.dataBytes),
  ]);
  const header = ['JOB', 'STATE', 'STARTED', 'DURATION', 'INPUT', 'OUTPUT', 'DATA'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

/** `mr clean <id>` or `mr clean --finished`: removes intermediate data, never a running job's. */
export async function cleanCommand(jobId: string | undefined, flags: JobsFlags): Promise<void> {
  const work = openStore(flags.work ?? DEFAULT_WORK_DIR);
  if ((jobId === undefined) === !flags.finished) {
    throw new UsageError('mr clean takes a job id or --finished, not both or neither');
  }
  const jobs = await listJobs(work);
  const chosen: JobEntry[] = [];
  if (jobId !== undefined) {
    const job = jobs.find((j) => j.jobId === jobId);
    if (!job || !(await jobExists(work, jobId))) throw new UsageError(`no job ${jobId} in ${work.url}`);
    if (!isFinished(job))
      throw new UsageError(`job ${jobId} is ${job.state}: only a finished job is cleaned`);
    chosen.push(job);
  } else chosen.push(...jobs.filter((j) => isFinished(j) && j.dataBytes > 0));
  let bytes = 0;
  for (const job of chosen) {
    await cleanJob(work, job.jobId);
    bytes += job.dataBytes;
  }
  process.stdout.write(`removed ${formatBytes(bytes)} of intermediate data of ${chosen.length} job(s)\n`);
}

/** A local path relative to here when that is shorter; URLs as they are. */
function shortPath(p: string): string {
  if (isUrl(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel.length < p.length && !rel.startsWith('..') ? rel : p;
}

/** `mr status <id>`: where a running or finished job stands, from its state in the store. */
export async function statusCommand(jobId: string, flags: JobsFlags): Promise<void> {
  const work = openStore(flags.work ?? DEFAULT_WORK_DIR);
  const p = await readJobProgress(work, jobId);
  if (!p) throw new UsageError(`no job ${jobId} in ${work.url}`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(p)}\n`);
    return;
  }
  const when = p.startedAt ? `, started ${p.startedAt.replace('T', ' ').slice(0, 19)}` : '';
  const took =
    p.elapsedMs === undefined
      ? ''
      : `, ${formatDuration(p.elapsedMs)}${p.state === 'running' ? ' so far' : ''}`;
  const paused = p.pausedAt
    ? ` (paused at ${p.pausedAt.replace('T', ' ').slice(0, 19)}, handing over to the next driver)`
    : '';
  const lines = [`job ${p.jobId}${p.name ? ` (${p.name})` : ''}: ${p.state}${paused}${when}${took}`];
  if (p.input) lines.push(`input   ${p.input.map(shortPath).join(' ')}`);
  if (p.output) lines.push(`output  ${shortPath(p.output)}`);
  const phase = (name: string, ph: PhaseProgress) =>
    ph.total === undefined
      ? `${name} not started`
      : `${name} ${ph.committed.toLocaleString('en-US')}/${ph.total.toLocaleString('en-US')} committed` +
        (ph.failed > 0 ? `, ${ph.failed} failed` : '');
  for (const s of p.stages)
    lines.push(
      s.mapOnly
        ? `stage ${s.stage}: ${phase('map', s.map)} (map-only: no reduce)`
        : `stage ${s.stage}: ${phase('map', s.map)}, ${s.merge ? `${phase('merge', s.merge)}, ` : ''}${phase('reduce', s.reduce)}`,
    );
  if (p.stages.length === 0) lines.push('not planned yet');
  for (const s of p.stages) {
    for (const f of [s.map.firstFailure, s.merge?.firstFailure, s.reduce.firstFailure]) {
      if (f) lines.push(`failed: ${f.taskId} after ${f.attempts} attempt(s)${f.error ? `: ${f.error}` : ''}`);
    }
  }
  if (p.error) lines.push(`error: ${p.error}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Flags of `mr logs`. */
export interface LogsFlags extends JobsFlags {
  task?: string;
  /** `store` (the copies tasks keep in the work store) or `cloudwatch` (aws jobs: the function's log group). */
  source?: string;
}

/**
 * `mr logs <id> [--task T]`: what job code logged in each attempt. For a job run on aws, from the
 * runtime function's CloudWatch Logs (every line the function wrote for the job, crashes included),
 * and from the copies the tasks kept in the work store when CloudWatch cannot be read; for a local
 * job, or with `--source store`, from those copies.
 */
export async function logsCommand(jobId: string, flags: LogsFlags): Promise<void> {
  if (flags.source !== undefined && flags.source !== 'store' && flags.source !== 'cloudwatch')
    throw new UsageError(`--source must be store or cloudwatch, got ${JSON.stringify(flags.source)}`);
  const work = openStore(flags.work ?? DEFAULT_WORK_DIR);
  if (!(await jobExists(work, jobId))) throw new UsageError(`no job ${jobId} in ${work.url}`);
  const state = new JobState(work, jobId);
  const spec = await state.loadSpec<{
    options?: { backend?: string; functionName?: string; region?: string };
  }>();
  const onAws = spec?.options?.backend === 'aws';
  if (flags.source === 'cloudwatch' && !onAws)
    throw new UsageError(
      `job ${jobId} ran on ${spec?.options?.backend ?? 'local'}: its logs are in the work store only`,
    );
  if (onAws && flags.source !== 'store') {
    const status = await state.loadStatus();
    const from = status?.startedAt ? Date.parse(status.startedAt) - 60_000 : undefined;
    const to = status && status.state !== 'running' ? Date.parse(status.updatedAt) + 300_000 : undefined;
    try {
      const { lines, truncated } = await functionLogLines({
        functionName: spec?.options?.functionName ?? DEFAULT_FUNCTION_NAME,
        ...(spec?.options?.region !== undefined && { region: spec.options.region }),
        jobId,
        ...(flags.task !== undefined && { taskId: flags.task }),
        ...(from !== undefined && { startTime: from }),
        ...(to !== undefined && { endTime: to }),
      });
      if (lines.length === 0) {
        process.stdout.write(
          `job ${jobId}: nothing in CloudWatch Logs${flags.task ? ` for task ${flags.task}` : ''}\n`,
        );
      }
      for (const l of lines) process.stdout.write(`${new Date(l.timestamp).toISOString()} ${l.message}\n`);
      if (truncated) process.stdout.write(`(stopped after ${lines.length} lines: name a task with --task)\n`);
      return;
    } catch (err) {
      if (flags.source === 'cloudwatch')
        throw new UsageError(`cannot read CloudWatch Logs: ${messageOf(err)}`);
      process.stderr.write(
        `mr: cannot read CloudWatch Logs (${messageOf(err)}): the copies kept in the work store follow\n`,
      );
    }
  }
  const logs = await listTaskLogs(work, jobId, flags.task);
  if (logs.length === 0) {
    process.stdout.write(
      flags.task === undefined
        ? `job ${jobId}: no task logged anything\n`
        : `job ${jobId}: task ${flags.task} logged nothing (or has not run)\n`,
    );
    return;
  }
  for (const l of logs) {
    process.stdout.write(`== ${l.taskId} attempt ${l.attempt}\n`);
    process.stdout.write(Buffer.from(await work.get(l.key)).toString('utf8'));
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];
