import type { MapResult, MergeResult, ReduceResult } from '../protocol/task-types.js';
import { AttemptColumns, type AttemptOutcome } from './attempt-columns.js';
import type { Phase } from './progress.js';
import type { AttemptEvent, TaskSpec } from './schedule.js';

export type { AttemptOutcome, AttemptRecord, AttemptTable } from './attempt-columns.js';

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
  /** The spec its task was first described by. */
  spec: TaskSpec;
  stage: number;
  phase: Phase;
  attempt: number;
  speculative: boolean;
  lane?: string;
  startMs: number;
}

/** The tasks one call of `phase` described first, in order. */
interface TaskGroup {
  stage: number;
  phase: Phase;
  specs: readonly TaskSpec[];
}

/**
 * Every attempt of a run, fed by the scheduler's attempt events of each phase (see `phase`): which
 * lane it ran on, when, and how it ended. What the job report draws its timeline from. The attempts
 * are kept in columns (`attempts`, see AttemptColumns) and each task's id and input are read from
 * its spec when the report is written: a run of 100,000 tasks keeps no object or string per attempt.
 */
export class AttemptLog {
  readonly attempts = new AttemptColumns();
  readonly phases: PhaseSpan[] = [];
  /** Invocations refused before they ran (Lambda 429): they have no bar. */
  throttled = 0;
  readonly #groups: TaskGroup[] = [];
  readonly #open = new Map<string, Open>();

  constructor(
    /** The run's start, as Date.now() gave it. */
    readonly t0: number,
    readonly now: () => number = Date.now,
  ) {}

  /**
   * Starts a phase; returns the listener for its attempt events. A phase run again (a map task run
   * again for a corrupt shuffle object, the reduce tasks after it) keeps the description of each
   * task its earlier run gave: task ids are unique within a stage and phase.
   */
  phase(
    stage: number,
    phase: Phase,
    specs: readonly TaskSpec[],
  ): (e: AttemptEvent<MapResult | MergeResult | ReduceResult>) => void {
    this.phases.push({ stage, phase, startMs: this.#ms(), tasks: specs.length });
    const earlier = this.#groups.filter((g) => g.stage === stage && g.phase === phase);
    let first: Map<TaskSpec, TaskSpec> | undefined;
    if (earlier.length === 0) this.#groups.push({ stage, phase, specs });
    else {
      const byId = new Map(earlier.flatMap((g) => g.specs.map((s) => [s.taskId, s] as const)));
      first = new Map();
      const fresh: TaskSpec[] = [];
      for (const spec of specs) {
        const before = byId.get(spec.taskId);
        if (before) first.set(spec, before);
        else fresh.push(spec);
      }
      if (fresh.length > 0) this.#groups.push({ stage, phase, specs: fresh });
    }
    return (e) => this.#onEvent(stage, phase, first, e);
  }

  /** Every task the log's phases named, each once, in the order first named. */
  *tasks(): Generator<TaskInput> {
    for (const g of this.#groups) for (const s of g.specs) yield { taskId: s.taskId, input: s.describe };
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

  #onEvent(
    stage: number,
    phase: Phase,
    first: ReadonlyMap<TaskSpec, TaskSpec> | undefined,
    e: AttemptEvent<MapResult | MergeResult | ReduceResult>,
  ): void {
    if (e.type === 'concurrency' || e.type === 'slow' || e.type === 'speculated') return;
    const key = `${e.spec.taskId}#${e.attempt}`;
    if (e.type === 'started') {
      const o: Open = {
        spec: first?.get(e.spec) ?? e.spec,
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
        // Rare (a twin committed, a speculative copy failed, the phase had failed): worth a search.
        this.#end(o, this.attempts.committed(o.spec) ? 'superseded' : 'failed', e.error.message);
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
    this.attempts.add({
      spec: o.spec,
      stage: o.stage,
      phase: o.phase,
      attempt: o.attempt,
      // An invoker that never says where an attempt runs (a test double) still gets a row.
      lane: o.lane ?? 'unknown',
      startMs: o.startMs,
      endMs: Math.max(o.startMs, this.#ms()),
      outcome,
      speculative: o.speculative,
      error,
      ...(m && { metrics: m }),
    });
  }

  #ms(): number {
    return this.now() - this.t0;
  }
}
