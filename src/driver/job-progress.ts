import { mergeInputsPrefix, reduceInputsPrefix, taskLogsPrefix } from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import { jobExists, jobTiming } from './job-list.js';
import { isPaused, JobState } from './job-state.js';
import type { Phase } from './progress.js';

/** Where one phase of a stage stands, as the store tells it. */
export interface PhaseProgress {
  /** Tasks of the phase; undefined before the phase has begun. */
  total?: number;
  /** Tasks with a committed attempt recorded. */
  committed: number;
  /** Tasks that used up their attempts (known once the phase has ended). */
  failed: number;
  /** The first failed task and its last error. */
  firstFailure?: { taskId: string; attempts: number; error?: string };
}

export interface StageProgress {
  stage: number;
  map: PhaseProgress;
  /** The combining tier's merge tasks, where the stage runs them. */
  merge?: PhaseProgress;
  reduce: PhaseProgress;
  /** A stage with no reduce: its map tasks write the part files, and `reduce` never begins. */
  mapOnly?: true;
}

/** A job's progress read from its state in the store alone: what `mr status` shows. */
export interface JobProgress {
  jobId: string;
  /** As stored, or `abandoned` for a running job whose driver stopped beating. */
  state: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned' | 'unknown';
  name?: string;
  input?: string[];
  output?: string;
  startedAt?: string;
  /** When the status was last written: the heartbeat of a running job. */
  updatedAt?: string;
  /** From start to now (running) or to the last status (finished). */
  elapsedMs?: number;
  stages: StageProgress[];
  /** A failed or cancelled job's error, as its driver recorded it. */
  error?: string;
  /** A running job whose driver paused at its deadline, handing over to the next (see RunOptions.deadline). */
  pausedAt?: string;
}

/**
 * Reads where a job stands from its state in the work store, as any process may while the job runs
 * (or afterwards): each stage's plan gives its map tasks, the commit records what has committed, the
 * reducers' input lists (or, once a phase ends, its task status) how many reduce tasks it has.
 * Undefined when the store holds no job of this id.
 */
export async function readJobProgress(
  work: ObjectStore,
  jobId: string,
  now = Date.now(),
): Promise<JobProgress | undefined> {
  if (!(await jobExists(work, jobId))) return undefined;
  const state = new JobState(work, jobId);
  const [spec, status] = await Promise.all([
    state.loadSpec<{
      name?: string;
      input?: string[];
      output?: string;
      startedAt?: string;
      mapOnlyStages?: number[];
    }>(),
    state.loadStatus(),
  ]);
  const stages: StageProgress[] = [];
  for (let s = 0; ; s++) {
    const plan = await state.loadPlan(s);
    if (!plan) break;
    // A stage ran merges if their lists are there (while it runs) or their status is (once ended).
    const merges = await listedUnder(work, mergeInputsPrefix(jobId, s));
    const merged = merges !== undefined || (await state.loadTaskStatus(s, 'merge')) !== undefined;
    stages.push({
      stage: s,
      map: await phaseProgress(state, s, 'map', plan.length),
      ...(merged && { merge: await phaseProgress(state, s, 'merge', merges) }),
      reduce: await phaseProgress(state, s, 'reduce', await listedUnder(work, reduceInputsPrefix(jobId, s))),
      ...(spec?.mapOnlyStages?.includes(s) && { mapOnly: true as const }),
    });
  }
  const { state: listed, startedAt, durationMs } = jobTiming(status, spec?.startedAt, now);
  const error = (status?.details as { error?: unknown } | undefined)?.error;
  return {
    jobId,
    state: listed,
    ...(spec?.name !== undefined && { name: spec.name }),
    ...(spec?.input !== undefined && { input: spec.input }),
    ...(spec?.output !== undefined && { output: spec.output }),
    ...(startedAt !== undefined && { startedAt }),
    ...(status?.updatedAt !== undefined && { updatedAt: status.updatedAt }),
    ...(durationMs !== undefined && { elapsedMs: durationMs }),
    stages,
    ...(typeof error === 'string' && { error }),
    ...(listed === 'running' &&
      status !== undefined &&
      isPaused(status) && { pausedAt: (status.details as { pausedAt: string }).pausedAt }),
  };
}

/** Input lists a stage's driver has written under `prefix`: a phase's tasks (merges, reducers), once it began. */
async function listedUnder(work: ObjectStore, prefix: string): Promise<number | undefined> {
  let n = 0;
  for await (const _ of work.list(prefix)) n++;
  return n > 0 ? n : undefined;
}

async function phaseProgress(
  state: JobState,
  stage: number,
  phase: Phase,
  listed: number | undefined,
): Promise<PhaseProgress> {
  const [commits, tasks] = await Promise.all([
    state.loadCommits(stage, phase),
    state.loadTaskStatus(stage, phase),
  ]);
  // Once a phase has ended its task status names every task; before, the plan or the input lists do.
  const statuses = tasks ? Object.entries(tasks) : [];
  const failed = statuses.filter(([, t]) => t.state === 'failed');
  const first = failed[0];
  return {
    ...((tasks ? statuses.length : listed) !== undefined && { total: tasks ? statuses.length : listed }),
    committed: Math.max(commits.size, statuses.filter(([, t]) => t.state === 'committed').length),
    failed: failed.length,
    ...(first && {
      firstFailure: {
        taskId: first[0],
        attempts: first[1].attempts,
        ...(first[1].error !== undefined && { error: first[1].error }),
      },
    }),
  };
}

/** One attempt's stored log (see TaskLog). */
export interface TaskLogEntry {
  taskId: string;
  attempt: number;
  key: string;
}

/** The stored logs of a job's attempts, in task then attempt order; of one task when `taskId` is given. */
export async function listTaskLogs(
  work: ObjectStore,
  jobId: string,
  taskId?: string,
): Promise<TaskLogEntry[]> {
  const out: TaskLogEntry[] = [];
  for await (const o of work.list(taskLogsPrefix(jobId))) {
    const m = /([^/]+)-a(\d+)\.log$/.exec(o.key);
    if (!m || (taskId !== undefined && m[1] !== taskId)) continue;
    out.push({ taskId: m[1] as string, attempt: Number(m[2]), key: o.key });
  }
  return out.sort((a, b) => a.taskId.localeCompare(b.taskId) || a.attempt - b.attempt);
}
