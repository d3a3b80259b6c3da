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
 * with metrics: enough to inspect a run afterwards. Manifests are written when a phase ends, not as
 * each task commits, so a run cannot yet be resumed from them.
 */
export class JobState {
  readonly #store: ObjectStore;
  readonly #jobId: string;

  constructor(store: ObjectStore, jobId: string) {
    this.#store = store;
    this.#jobId = jobId;
  }

  async start(spec: Record<string, unknown>): Promise<void> {
    await this.#write(jobSpecKey(this.#jobId), { ...spec, startedAt: new Date().toISOString() });
    await this.#write(jobStatusKey(this.#jobId), { state: 'running', updatedAt: new Date().toISOString() });
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

  finish(state: 'succeeded' | 'failed' | 'cancelled', details: unknown): Promise<void> {
    return this.#write(jobStatusKey(this.#jobId), { state, updatedAt: new Date().toISOString(), details });
  }

  #write(key: string, value: unknown): Promise<void> {
    return this.#store.put(key, JSON.stringify(value));
  }
}
