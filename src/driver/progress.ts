import type { TaskMetrics } from '../protocol/task-types.js';

/** A stage's phases, in the order they run; `merge` only where the combining tier runs (see mergeFanIn). */
export type Phase = 'map' | 'merge' | 'reduce';

/** Typed progress events a run emits; the CLI renders them, programs may log or chart them. */
export type ProgressEvent =
  | { type: 'job-start'; jobId: string; name: string; stages: number; inputFiles: number; inputBytes: number }
  | {
      type: 'phase-start';
      stage: number;
      phase: Phase;
      /** Tasks this run runs. */
      tasks: number;
      bytes: number;
      /** Resumed: tasks committed by a run before, kept. */
      kept?: number;
    }
  | {
      /** An attempt began to run on `lane` (a worker thread or function slot). */
      type: 'task-start';
      stage: number;
      phase: Phase;
      taskId: string;
      attempt: number;
      lane: string;
      /** Attempts of the phase running now, this one included. */
      inFlight: number;
    }
  | {
      type: 'task-done';
      stage: number;
      phase: Phase;
      taskId: string;
      attempt: number;
      done: number;
      total: number;
      /** Attempts of the phase still running. */
      inFlight: number;
      metrics: TaskMetrics;
    }
  | {
      type: 'task-retry';
      stage: number;
      phase: Phase;
      taskId: string;
      attempt: number;
      error: string;
      delayMs: number;
    }
  | { type: 'task-speculated'; stage: number; phase: Phase; taskId: string; attempt: number }
  | {
      /** An attempt running far longer than its peers; repeated each time its running time doubles. */
      type: 'task-slow';
      stage: number;
      phase: Phase;
      taskId: string;
      attempt: number;
      runningMs: number;
      /** Median time of the phase's finished attempts, when any have finished. */
      medianMs?: number;
      /** When the backend abandons the attempt (and retries it), counted from its start. */
      timeoutMs?: number;
    }
  /** Something the user should know that does not stop the run, such as a wasteful option. */
  | { type: 'warning'; message: string }
  | { type: 'phase-done'; stage: number; phase: Phase; ms: number }
  | { type: 'concurrency'; stage: number; phase: Phase; limit: number; reason: 'throttled' | 'recovered' };
