import type { MapResult, MergeResult, ReduceResult } from '../protocol/task-types.js';
import type { Phase } from './progress.js';
import type { AttemptEvent, TaskSpec } from './schedule.js';

/**
 * How an attempt ended: `ok` (committed), `retried` (failed; the task went again), `failed` (failed
 * and the task gave up, or a speculative copy failed), `superseded` (its twin committed first: its
 * output was discarded), `throttled` (refused once sent: Lambda's 429, which comes back only after
 * the invocation left, or S3 SlowDown while it ran; it goes again under the same number),
 * `unfinished` (still running when the run ended).
 */
export type AttemptOutcome = 'ok' | 'retried' | 'failed' | 'superseded' | 'throttled' | 'unfinished';

/** One attempt that ran, as the job report shows it. Times are milliseconds from the run's start. */
export interface AttemptRecord {
  taskId: string;
  stage: number;
  phase: Phase;
  attempt: number;
  /** The worker thread or function slot it ran on (`worker 0`, `function 12`). */
  lane: string;
  startMs: number;
  endMs: number;
  outcome: AttemptOutcome;
  /** A copy launched for a straggler. */
  speculative: boolean;
  error?: string;
  /** From the attempt's metrics, when it finished with a result (ok or superseded). */
  bytesIn?: number;
  recordsIn?: number;
  bytesOut?: number;
  recordsOut?: number;
}

/** One phase of a stage as it ran: from its first task handed out to its last commit. */
export interface PhaseSpan {
  stage: number;
  phase: Phase;
  startMs: number;
  /** When every task had committed; absent when the phase did not finish. */
  endMs?: number;
  tasks: number;
}

/** A task's input, named as failure messages name it: `data/a.txt[0, 67108864)`. */
export interface TaskInput {
  taskId: string;
  input: string;
}

/** An attempt handed to the invoker, not yet ended. */
interface Open {
  spec: TaskSpec;
  stage: number;
  phase: Phase;
  attempt: number;
  speculative: boolean;
  lane?: string;
  startMs: number;
}

/**
 * Every attempt of a run, fed by the scheduler's attempt events of each phase (see `phase`): which
 * lane it ran on, when, and how it ended. What the job report draws its timeline from.
 */
export class AttemptLog {
  readonly attempts: AttemptRecord[] = [];
  readonly phases: PhaseSpan[] = [];
  readonly tasks: TaskInput[] = [];
  /** Invocations refused before they ran (Lambda 429): they have no bar. */
  throttled = 0;
  readonly #open = new Map<string, Open>();
  readonly #committed = new Set<string>();
  readonly #described = new Set<string>();

  constructor(
    /** The run's start, as Date.now() gave it. */
    readonly t0: number,
    readonly now: () => number = Date.now,
  ) {}

  /** Starts a phase; returns the listener for its attempt events. */
  phase(
    stage: number,
    phase: Phase,
    specs: readonly TaskSpec[],
  ): (e: AttemptEvent<MapResult | MergeResult | ReduceResult>) => void {
    const span: PhaseSpan = { stage, phase, startMs: this.#ms(), tasks: specs.length };
    this.phases.push(span);
    for (const spec of specs) {
      // A map task run again for a corrupt shuffle object is described once.
      if (this.#described.has(spec.taskId)) continue;
      this.#described.add(spec.taskId);
      this.tasks.push({ taskId: spec.taskId, input: spec.describe });
    }
    return (e) => this.#onEvent(stage, phase, e);
  }

  /** Ends a phase that committed every task. */
  endPhase(stage: number, phase: Phase): void {
    const span = this.phases.findLast((p) => p.stage === stage && p.phase === phase);
    if (span) span.endMs = this.#ms();
  }

  /** Ends the log: attempts still open are recorded as unfinished. */
  close(): void {
    for (const [key, o] of this.#open) {
      this.#open.delete(key);
      if (o.lane !== undefined) this.#end(o, 'unfinished');
    }
  }

  #onEvent(stage: number, phase: Phase, e: AttemptEvent<MapResult | MergeResult | ReduceResult>): void {
    if (e.type === 'concurrency' || e.type === 'slow' || e.type === 'speculated') return;
    const key = `${e.spec.taskId}#${e.attempt}`;
    if (e.type === 'started') {
      const o: Open = {
        spec: e.spec,
        stage,
        phase,
        attempt: e.attempt,
        speculative: e.speculative,
        startMs: this.#ms(),
      };
      this.#open.set(key, o);
      return;
    }
    const o = this.#open.get(key);
    if (!o) return;
    if (e.type === 'running') {
      o.lane = e.lane;
      o.startMs = this.#ms();
      return;
    }
    this.#open.delete(key);
    switch (e.type) {
      case 'committed':
        this.#committed.add(e.spec.taskId);
        this.#end(o, 'ok', undefined, e.result);
        return;
      case 'superseded':
        this.#end(o, 'superseded', undefined, e.result);
        return;
      case 'retry':
        if (e.throttled && o.lane === undefined) {
          this.throttled++;
          return;
        }
        this.#end(o, e.throttled ? 'throttled' : 'retried', e.error.message);
        return;
      case 'gave-up':
        this.#end(o, 'failed', e.error.message);
        return;
      case 'dropped':
        if (o.lane === undefined) return;
        this.#end(o, this.#committed.has(e.spec.taskId) ? 'superseded' : 'failed', e.error.message);
        return;
    }
  }

  #end(
    o: Open,
    outcome: AttemptOutcome,
    error?: string,
    result?: MapResult | MergeResult | ReduceResult,
  ): void {
    const m = result?.metrics;
    this.attempts.push({
      taskId: o.spec.taskId,
      stage: o.stage,
      phase: o.phase,
      attempt: o.attempt,
      // An invoker that never says where an attempt runs (a test double) still gets a row.
      lane: o.lane ?? 'unknown',
      startMs: o.startMs,
      endMs: Math.max(o.startMs, this.#ms()),
      outcome,
      speculative: o.speculative,
      ...(error !== undefined && { error }),
      ...(m && {
        bytesIn: m.inputBytes,
        recordsIn: m.inputRecords,
        bytesOut: m.outputBytes,
        recordsOut: m.outputRecords,
      }),
    });
  }

  #ms(): number {
    return this.now() - this.t0;
  }
}
