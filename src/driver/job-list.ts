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
      const startedAt = status?.startedAt ?? spec?.startedAt;
      const started = startedAt ? Date.parse(startedAt) : Number.NaN;
      const abandoned = status !== undefined && isAbandoned(status, now);
      const state = abandoned ? 'abandoned' : (status?.state ?? 'unknown');
      const end = status?.state === 'running' && !abandoned ? now : Date.parse(status?.updatedAt ?? '');
      return {
        jobId,
        state,
        ...(spec?.name !== undefined && { name: spec.name }),
        ...(startedAt !== undefined && { startedAt }),
        ...(Number.isFinite(end - started) && { durationMs: end - started }),
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
