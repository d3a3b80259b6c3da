import type { ObjectStore } from '../backends/object-store.js';
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
  readonly #prefix: string;

  constructor(store: ObjectStore, jobId: string) {
    this.#store = store;
    this.#prefix = `jobs/${jobId}/`;
  }

  async start(spec: Record<string, unknown>): Promise<void> {
    await this.#write('job.json', { ...spec, startedAt: new Date().toISOString() });
    await this.#write('status.json', { state: 'running', updatedAt: new Date().toISOString() });
  }

  savePlan(stage: number, tasks: MapInput[]): Promise<void> {
    return this.#write(`s${stage}/plan.json`, { stage, tasks });
  }

  /** The committed attempt of every task of a phase; reducers read only what the map manifest names. */
  saveManifest(stage: number, phase: 'map' | 'reduce', committed: unknown[]): Promise<void> {
    return this.#write(`s${stage}/${phase}-manifest.json`, { stage, phase, committed });
  }

  /** Every task of a phase: its state, attempts so far and last error. */
  saveTaskStatus(stage: number, phase: 'map' | 'reduce', tasks: Record<string, TaskStatus>): Promise<void> {
    return this.#write(`s${stage}/${phase}-tasks.json`, { stage, phase, tasks });
  }

  finish(state: 'succeeded' | 'failed' | 'cancelled', details: unknown): Promise<void> {
    return this.#write('status.json', { state, updatedAt: new Date().toISOString(), details });
  }

  #write(name: string, value: unknown): Promise<void> {
    return this.#store.put(`${this.#prefix}${name}`, JSON.stringify(value));
  }
}
