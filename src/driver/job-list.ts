import { jobDataPrefix, jobPrefix, jobSpecKey, jobStatusKey } from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import { isAbandoned, type JobStatus } from './job-state.js';

/** One job found in a work store, as `mr jobs` lists it. */
export interface JobEntry {
  jobId: string;
  /** As stored, or `abandoned` for a running job whose driver stopped beating. */
  state: JobStatus['state'] | 'abandoned' | 'unknown';
  name?: string;
  startedAt?: string;
  /** From start to the last status written (to now for a running job). */
  durationMs?: number;
  input?: string[];
  output?: string;
  /** Bytes of intermediate data (shuffle objects, reducer lists, stage outputs) still stored. */
  dataBytes: number;
}

const FINISHED: ReadonlySet<JobEntry['state']> = new Set(['succeeded', 'failed', 'cancelled', 'abandoned']);

/** Whether a job's driver is done with it, so its intermediate data may go. */
export const isFinished = (j: JobEntry): boolean => FINISHED.has(j.state);

/** Every job in a work store, oldest first, read from its state files in one listing. */
export async function listJobs(work: ObjectStore, now = Date.now()): Promise<JobEntry[]> {
  const ids = new Set<string>();
  const dataBytes = new Map<string, number>();
  for await (const o of work.list('jobs/')) {
    const id = o.key.split('/')[1];
    if (!id) continue;
    ids.add(id);
    if (o.key.startsWith(jobDataPrefix(id))) dataBytes.set(id, (dataBytes.get(id) ?? 0) + o.size);
  }
  const jobs = await Promise.all(
    [...ids].map(async (jobId): Promise<JobEntry> => {
      const spec = await readJson<{ name?: string; input?: string[]; output?: string; startedAt?: string }>(
        work,
        jobSpecKey(jobId),
      );
      const status = await readJson<JobStatus>(work, jobStatusKey(jobId));
      const { state, startedAt, durationMs } = jobTiming(status, spec?.startedAt, now);
      return {
        jobId,
        state,
        ...(spec?.name !== undefined && { name: spec.name }),
        ...(startedAt !== undefined && { startedAt }),
        ...(durationMs !== undefined && { durationMs }),
        ...(spec?.input !== undefined && { input: spec.input }),
        ...(spec?.output !== undefined && { output: spec.output }),
        dataBytes: dataBytes.get(jobId) ?? 0,
      };
    }),
  );
  return jobs.sort(
    (a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.jobId.localeCompare(b.jobId),
  );
}

/**
 * A job's state as listed (`abandoned` for a running job whose driver stopped beating), when it
 * started, and how long it ran: to now while it runs, else to its last status.
 */
export function jobTiming(
  status: JobStatus | undefined,
  specStartedAt: string | undefined,
  now: number,
): { state: JobEntry['state']; startedAt?: string; durationMs?: number } {
  const startedAt = status?.startedAt ?? specStartedAt;
  const abandoned = status !== undefined && isAbandoned(status, now);
  const end = status?.state === 'running' && !abandoned ? now : Date.parse(status?.updatedAt ?? '');
  const durationMs = end - Date.parse(startedAt ?? '');
  return {
    state: abandoned ? 'abandoned' : (status?.state ?? 'unknown'),
    ...(startedAt !== undefined && { startedAt }),
    ...(Number.isFinite(durationMs) && { durationMs }),
  };
}

/** Removes a job's intermediate data; its state files stay, so it is still listed. */
export async function cleanJob(work: ObjectStore, jobId: string): Promise<void> {
  await work.deletePrefix(jobDataPrefix(jobId));
}

/** Whether a job of this id has state in the store. */
export async function jobExists(work: ObjectStore, jobId: string): Promise<boolean> {
  for await (const _ of work.list(jobPrefix(jobId))) return true;
  return false;
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  try {
    if (!(await store.head(key))) return undefined;
    return JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
