import { resolve } from 'node:path';
import { DEFAULT_WORK_DIR } from '../backends/backends.js';
import { UsageError } from '../errors.js';
import type { Job } from '../job/types.js';
import { isUrl, openStore } from '../store/open-store.js';
import { isAbandoned, isPaused, JobState, type JobStatus } from './job-state.js';
import type { ProgressEvent } from './progress.js';
import { type JobResult, runJob } from './run-job.js';
import type { RunOptions } from './run-options.js';

export interface ResumeOptions {
  /** The work store holding the job. @default `.fanout` */
  workDir?: string;
  /** The job object, for a job that ran one (a job file is found from the job's state). */
  job?: Job;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

/** What resuming did: ran the job to its end, or found it had already succeeded. */
export type ResumeOutcome = { resumed: true; result: JobResult } | { resumed: false; status: JobStatus };

/**
 * Continues a job that stopped before it succeeded (a failed task, Ctrl-C, a killed driver) with
 * the input, output and options it was started with, running only the tasks with no committed
 * attempt whose output is still stored.
 * @throws {UsageError} when the job is not in the store, is still running, or ran a job object
 *   that is not passed in.
 */
export async function resumeJob(jobId: string, o: ResumeOptions = {}): Promise<ResumeOutcome> {
  const workDir = o.workDir ?? DEFAULT_WORK_DIR;
  const state = new JobState(openStore(isUrl(workDir) ? workDir : resolve(workDir)), jobId);
  const spec = await state.loadSpec<{
    jobFile?: string;
    input: string[];
    output: string;
    options: RunOptions;
  }>();
  if (!spec) throw new UsageError(`no job ${jobId} in ${workDir}`);
  const status = await state.loadStatus();
  if (status?.state === 'succeeded') return { resumed: false, status };
  if (status?.state === 'running' && !isAbandoned(status) && !isPaused(status)) {
    const beat = Date.parse(status.heartbeatAt ?? status.updatedAt);
    throw new UsageError(
      `job ${jobId} is still running (its driver beat ${Math.round((Date.now() - beat) / 1000)} s ago); stop it first, or wait a minute if it died on another host`,
    );
  }
  const job = o.job ?? spec.jobFile;
  if (job === undefined) throw new UsageError(`job ${jobId} ran a job object: pass it to resumeJob as job`);
  const result = await runJob(job, {
    ...spec.options,
    input: spec.input,
    output: spec.output,
    ...(o.workDir !== undefined && { workDir: o.workDir }),
    resume: jobId,
    ...(o.onProgress && { onProgress: o.onProgress }),
    ...(o.signal && { signal: o.signal }),
  });
  return { resumed: true, result };
}
