import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { processIsGone } from '../process-gone.js';
import {
  commitRecordsKey,
  commitsPrefix,
  jobSpecKey,
  jobStatusKey,
  manifestKey,
  partitionPlanKey,
  stagePlanKey,
  taskStatusKey,
} from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import { CommitLog, mergeCommits } from './commit-log.js';
import type { MapInput } from './plan-splits.js';
import type { Phase } from './progress.js';
import { writePieces } from './write-pieces.js';

/** Where one task stands. */
export interface TaskStatus {
  state: 'pending' | 'running' | 'retrying' | 'committed' | 'failed';
  attempts: number;
  error?: string;
}

/**
 * A job's state in the store, under `jobs/<job id>/`: what was asked (`job.json`), each stage's plan,
 * the manifest of committed attempts and the status of every task per phase, and the final status
 * with metrics, and while it runs a heartbeat: enough to inspect a run afterwards and to tell a
 * driver that died without a word (see listJobs). Each task's commit is recorded as it commits, so a
 * run stopped by any means can be resumed without redoing committed tasks (see resumeJob).
 */
/** How often a running driver says it is alive in its status. */
export const HEARTBEAT_MS = 10_000;

/**
 * The least time between two writes of a phase's commit records (see CommitLog): at most 40 record
 * objects a second, however many tasks commit, each record stored within 25 ms and a write.
 */
const COMMIT_WRITE_INTERVAL_MS = 25;

/** Items of a long list (a plan's tasks, a manifest's commits) stringified and written together. */
const LIST_CHUNK = 1000;

/** A status whose heartbeat is older than this belongs to a driver that died without a word. */
export const ABANDONED_AFTER_MS = 6 * HEARTBEAT_MS;

/**
 * Whether a `running` status belongs to a driver that died without a word: its heartbeat stopped,
 * or its process on this host is gone.
 */
export function isAbandoned(s: JobStatus, now = Date.now()): boolean {
  if (s.state !== 'running') return false;
  const beat = Date.parse(s.heartbeatAt ?? s.updatedAt);
  return !(now - beat < ABANDONED_AFTER_MS) || processIsGone(s.driver?.host, s.driver?.pid);
}

/** Whether a `running` status was left by a driver that paused at its deadline (see JobState.pause). */
export function isPaused(s: JobStatus): boolean {
  return (
    s.state === 'running' && typeof (s.details as { pausedAt?: unknown } | undefined)?.pausedAt === 'string'
  );
}

/** A job's status as stored in `status.json`. */
export interface JobStatus {
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  startedAt?: string;
  updatedAt: string;
  /** While running: when the driver last said it was alive. */
  heartbeatAt?: string;
  /** While running: the driver's host and process, so one that died on this host is told at once. */
  driver?: { host: string; pid: number };
  details?: unknown;
}

export class JobState {
  readonly #store: ObjectStore;
  readonly #jobId: string;
  #startedAt = new Date().toISOString();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Status writes in order: a heartbeat in flight must never land after the final status. */
  #statusWrites: Promise<void> = Promise.resolve();
  #final = false;
  /** Each phase's commit records, written in groups. */
  readonly #commitLogs = new Map<string, CommitLog>();
  /** Names this driver's commit record objects apart from those of the runs before and after it. */
  readonly #writerId = randomBytes(4).toString('hex');

  constructor(store: ObjectStore, jobId: string) {
    this.#store = store;
    this.#jobId = jobId;
  }

  /** Records what was asked and a running status, then beats every HEARTBEAT_MS until finish(). */
  async start(spec: Record<string, unknown>, heartbeatMs = HEARTBEAT_MS): Promise<void> {
    this.#startedAt = new Date().toISOString();
    await this.#write(jobSpecKey(this.#jobId), { ...spec, startedAt: this.#startedAt });
    await this.#status({ state: 'running' });
    this.#heartbeat = setInterval(() => {
      // A failed heartbeat is not the run's failure; the next one may pass.
      this.#status({ state: 'running' }).catch(() => {});
    }, heartbeatMs);
    this.#heartbeat.unref();
  }

  savePlan(stage: number, tasks: MapInput[]): Promise<void> {
    return this.#writeWithList(stagePlanKey(this.#jobId, stage), { stage }, 'tasks', tasks);
  }

  /** Stores a stage's partition plan (as encodePartitionPlan made it); returns its key. */
  async savePartitionPlan(stage: number, bytes: Uint8Array): Promise<string> {
    const key = partitionPlanKey(this.#jobId, stage);
    await this.#store.put(key, bytes);
    return key;
  }

  /** A stage's stored partition plan, when a run before this one made it. */
  async loadPartitionPlan(stage: number): Promise<{ key: string; bytes: Uint8Array } | undefined> {
    const key = partitionPlanKey(this.#jobId, stage);
    if (!(await this.#store.head(key))) return undefined;
    return { key, bytes: await this.#store.get(key) };
  }

  /**
   * Records one task's committed attempt as it commits: a resumed run skips the task. Resolves once
   * the record is stored; records that commit close together are stored together (see CommitLog).
   */
  saveCommit(stage: number, phase: Phase, taskId: string, attempt: number, result: unknown): Promise<void> {
    const at = `${stage}/${phase}`;
    let log = this.#commitLogs.get(at);
    if (!log) {
      log = new CommitLog(
        (commits, seq) =>
          this.#write(
            commitRecordsKey(this.#jobId, stage, phase, `${this.#writerId}-${String(seq).padStart(6, '0')}`),
            { commits },
          ),
        COMMIT_WRITE_INTERVAL_MS,
      );
      this.#commitLogs.set(at, log);
    }
    return log.add({ taskId, attempt, result });
  }

  /** The commits recorded for a phase so far, by task id (a task recorded twice: its latest). */
  async loadCommits<R>(stage: number, phase: Phase): Promise<Map<string, { attempt: number; result: R }>> {
    const objects: unknown[] = [];
    for await (const o of this.#store.list(commitsPrefix(this.#jobId, stage, phase))) {
      const c = await this.#read<unknown>(o.key);
      if (c) objects.push(c);
    }
    return mergeCommits<R>(objects);
  }

  /** A stage's saved plan, when a run before this one planned it. */
  async loadPlan(stage: number): Promise<MapInput[] | undefined> {
    return (await this.#read<{ tasks: MapInput[] }>(stagePlanKey(this.#jobId, stage)))?.tasks;
  }

  /** What was asked of the job (`job.json`), when it exists. */
  loadSpec<T>(): Promise<T | undefined> {
    return this.#read<T>(jobSpecKey(this.#jobId));
  }

  /** The job's last status, when it exists. */
  loadStatus(): Promise<JobStatus | undefined> {
    return this.#read<JobStatus>(jobStatusKey(this.#jobId));
  }

  /** The committed attempt of every task of a phase; reducers read only what the map manifest names. */
  saveManifest(stage: number, phase: Phase, committed: readonly unknown[]): Promise<void> {
    return this.#writeWithList(
      manifestKey(this.#jobId, stage, phase),
      { stage, phase },
      'committed',
      committed,
    );
  }

  /**
   * Every task of a phase: its state, attempts so far and last error, stored as `{stage, phase,
   * tasks: {<task id>: status}}`, written in pieces of LIST_CHUNK tasks.
   */
  saveTaskStatus(
    stage: number,
    phase: Phase,
    tasks: { entries(): Iterable<[string, TaskStatus]> },
  ): Promise<void> {
    return writePieces(
      this.#store,
      taskStatusKey(this.#jobId, stage, phase),
      statusPieces(stage, phase, tasks),
    );
  }

  /** Every task of a phase as saveTaskStatus last stored it (when the phase ended), if it did. */
  async loadTaskStatus(stage: number, phase: Phase): Promise<Record<string, TaskStatus> | undefined> {
    return (await this.#read<{ tasks: Record<string, TaskStatus> }>(taskStatusKey(this.#jobId, stage, phase)))
      ?.tasks;
  }

  /** The final status; the heartbeat stops first, and no write of it can land after this one. */
  async finish(state: 'succeeded' | 'failed' | 'cancelled', details: unknown): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#commitsSettled();
    const done = this.#status({ state, details });
    this.#final = true;
    return done;
  }

  /**
   * Stops the heartbeat without a final status: the job stays `running`, for the driver that resumes
   * it (see RunOptions.deadline). Commit records still being written land first; past the heartbeat's
   * age with no driver taking it up, the job reads as abandoned and `mr resume` continues it.
   */
  async pause(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#commitsSettled();
    await this.#status({ state: 'running', details: { pausedAt: new Date().toISOString() } });
    this.#final = true;
  }

  /** Commit records still being written land first: a resumed run finds every task that committed. */
  async #commitsSettled(): Promise<void> {
    await Promise.all([...this.#commitLogs.values()].map((log) => log.settled()));
  }

  #status(s: Pick<JobStatus, 'state' | 'details'>): Promise<void> {
    if (this.#final) return Promise.resolve();
    const now = new Date().toISOString();
    const status: JobStatus = {
      ...s,
      startedAt: this.#startedAt,
      updatedAt: now,
      ...(s.state === 'running' && { heartbeatAt: now, driver: { host: hostname(), pid: process.pid } }),
    };
    const write = this.#statusWrites.then(() => this.#write(jobStatusKey(this.#jobId), status));
    this.#statusWrites = write.catch(() => {});
    return write;
  }

  #write(key: string, value: unknown): Promise<void> {
    return this.#store.put(key, JSON.stringify(value));
  }

  /**
   * Writes `{ ...fields, [name]: items }`, the same bytes as #write, in pieces of LIST_CHUNK items:
   * a plan's or a manifest's list for 100,000 tasks is 15 to 85 MB of JSON, twice over (the string
   * and its bytes) when made in one piece.
   */
  async #writeWithList(
    key: string,
    fields: Record<string, unknown>,
    name: string,
    items: readonly unknown[],
  ): Promise<void> {
    const w = await this.#store.openWriter(key);
    try {
      // `{...,"name":[]}` without its closing `]}`.
      await w.write(Buffer.from(JSON.stringify({ ...fields, [name]: [] }).slice(0, -2)));
      for (let i = 0; i < items.length; i += LIST_CHUNK) {
        // An array's undefined items are written as null, as JSON.stringify does.
        const part = items
          .slice(i, i + LIST_CHUNK)
          .map((item) => JSON.stringify(item) ?? 'null')
          .join(',');
        await w.write(Buffer.from(i === 0 ? part : `,${part}`));
      }
      await w.write(Buffer.from(']}'));
      await w.close();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  async #read<T>(key: string): Promise<T | undefined> {
    if (!(await this.#store.head(key))) return undefined;
    return JSON.parse(Buffer.from(await this.#store.get(key)).toString('utf8')) as T;
  }
}

/** A phase's task status as JSON, LIST_CHUNK tasks a piece. */
function* statusPieces(
  stage: number,
  phase: string,
  tasks: { entries(): Iterable<[string, TaskStatus]> },
): Generator<string> {
  // `{"stage":0,"phase":"map","tasks":{` and then the tasks.
  yield JSON.stringify({ stage, phase, tasks: {} }).slice(0, -2);
  let piece = '';
  let n = 0;
  for (const [id, status] of tasks.entries()) {
    piece += `${n === 0 ? '' : ','}${JSON.stringify(id)}:${JSON.stringify(status)}`;
    if (++n % LIST_CHUNK === 0) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}}}`;
}
