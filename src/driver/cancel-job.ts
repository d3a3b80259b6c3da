import { resolve } from 'node:path';
import { DEFAULT_WORK_DIR } from '../backends/backends.js';
import { UsageError } from '../errors.js';
import { cancelKey } from '../protocol/store-layout.js';
import { isUrl, openStore } from '../store/open-store.js';
import { JobState } from './job-state.js';

/**
 * Asks a running job to stop, from anywhere that reaches its work store: its driver stops launching
 * tasks within seconds and records the job as cancelled (resumable), and its running tasks stop at
 * their next batch. Returns the job's state when asked.
 * @throws {UsageError} when the job is not in the store.
 */
export async function cancelJob(jobId: string, o: { workDir?: string } = {}): Promise<string> {
  const workDir = o.workDir ?? DEFAULT_WORK_DIR;
  const work = openStore(isUrl(workDir) ? workDir : resolve(workDir));
  const status = await new JobState(work, jobId).loadStatus();
  if (!status) throw new UsageError(`no job ${jobId} in ${workDir}`);
  if (status.state === 'running') await work.put(cancelKey(jobId), new Date().toISOString());
  return status.state;
}
