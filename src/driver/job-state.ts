import {
  jobSpecKey,
  jobStatusKey,
  manifestKey,
  stagePlanKey,
  taskStatusKey,
} from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import type { MapInput } from './plan-splits.js';

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
 * driver that died without a word (see listJobs). Manifests are written when a phase ends, not as
 * each task commits, so a run cannot yet be resumed from them.
 */
/** How often a running driver says it is alive in its status. */
export const HEARTBEAT_MS = 10_000;

/** A status whose heartbeat is older than this belongs to a driver that died without a word. */
export const ABANDONED_AFTER_MS = 6 * HEARTBEAT_MS;

/** A job's status as stored in `status.json`. */
export interface JobStatus {
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  startedAt?: string;
  updatedAt: string;
  /** While running: when the driver last said it was alive. */
  heartbeatAt?: string;
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
    return this.#write(stagePlanKey(this.#jobId, stage), { stage, tasks });
  }

  /** The committed attempt of every task of a phase; reducers read only what the map manifest names. */
  saveManifest(stage: number, phase: 'map' | 'reduce', committed: unknown[]): Promise<void> {
    return this.#write(manifestKey(this.#jobId, stage, phase), { stage, phase, committed });
  }

  /** Every task of a phase: its state, attempts so far and last error. */
  saveTaskStatus(stage: number, phase: 'map' | 'reduce', tasks: Record<string, TaskStatus>): Promise<void> {
    return this.#write(taskStatusKey(this.#jobId, stage, phase), { stage, phase, tasks });
  }

  /** The final status; the heartbeat stops first, and no write of it can land after this one. */
  finish(state: 'succeeded' | 'failed' | 'cancelled', details: unknown): Promise<void> {
    clearInterval(this.#heartbeat);
    const done = this.#status({ state, details });
    this.#final = true;
    return done;
  }

  #status(s: Pick<JobStatus, 'state' | 'details'>): Promise<void> {
    if (this.#final) return Promise.resolve();
    const now = new Date().toISOString();
    const status: JobStatus = {
      ...s,
      startedAt: this.#startedAt,
      updatedAt: now,
      ...(s.state === 'running' && { heartbeatAt: now }),
    };
    const write = this.#statusWrites.then(() => this.#write(jobStatusKey(this.#jobId), status));
    this.#statusWrites = write.catch(() => {});
    return write;
  }

  #write(key: string, value: unknown): Promise<void> {
    return this.#store.put(key, JSON.stringify(value));
  }
}
