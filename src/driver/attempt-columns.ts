import type { Phase } from './progress.js';
import type { TaskSpec } from './schedule.js';

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

/**
 * A report's attempts read one at a time by index: the attempt log's columns, or the array of a
 * stored report (see tableOfRecords). Each `record(i)` is made afresh.
 */
export interface AttemptTable {
  readonly length: number;
  record(i: number): AttemptRecord;
  /** The input of attempt i's task, as failure messages name it: `data/a.txt[0, 67108864)`. */
  input(i: number): string;
}

/** The table of a stored report's attempts, their inputs looked up in its task list. */
export function tableOfRecords(
  attempts: readonly AttemptRecord[],
  tasks: readonly { taskId: string; input: string }[],
): AttemptTable {
  const inputs = new Map(tasks.map((t) => [t.taskId, t.input]));
  return {
    length: attempts.length,
    record: (i) => attempts[i] as AttemptRecord,
    input: (i) => inputs.get((attempts[i] as AttemptRecord).taskId) ?? '',
  };
}

const OUTCOMES: readonly AttemptOutcome[] = [
  'ok',
  'retried',
  'failed',
  'superseded',
  'throttled',
  'unfinished',
];
/** Flag bits above the outcome's index (which takes the low 3 bits). */
const SPECULATIVE = 8;
/** The phase's index in PHASES, in the two bits above SPECULATIVE. */
const PHASES: readonly Phase[] = ['map', 'merge', 'reduce'];
const PHASE_SHIFT = 4;
/** Metrics kept per attempt, in this order; NaN where the attempt ended without a result. */
const METRICS = 4;
const FIRST_CAPACITY = 1024;

/** One attempt as the log adds it. */
export interface AttemptRow {
  /** The spec its task was first described by (its id and input). */
  spec: TaskSpec;
  stage: number;
  phase: Phase;
  attempt: number;
  lane: string;
  startMs: number;
  endMs: number;
  outcome: AttemptOutcome;
  speculative: boolean;
  error?: string | undefined;
  metrics?: { inputBytes: number; inputRecords: number; outputBytes: number; outputRecords: number };
}

/**
 * Every attempt of a run in columns: typed arrays for the numbers, an index into the few lane names,
 * a pointer to the task's spec (which the driver holds anyway) for its id and input, and the rare
 * error messages by index. About 70 bytes an attempt, where a record object with its own strings
 * took about 250: a plan of 100,000 tasks keeps its attempts in 7 MB.
 */
export class AttemptColumns implements AttemptTable {
  #length = 0;
  #specs: TaskSpec[] = [];
  #stage = new Uint16Array(FIRST_CAPACITY);
  #attempt = new Uint32Array(FIRST_CAPACITY);
  #lane = new Uint32Array(FIRST_CAPACITY);
  #start = new Float64Array(FIRST_CAPACITY);
  #end = new Float64Array(FIRST_CAPACITY);
  #flags = new Uint8Array(FIRST_CAPACITY);
  #metrics = new Float64Array(FIRST_CAPACITY * METRICS);
  readonly #errors = new Map<number, string>();
  readonly #lanes: string[] = [];
  readonly #laneIds = new Map<string, number>();

  get length(): number {
    return this.#length;
  }

  add(r: AttemptRow): void {
    const i = this.#length;
    if (i === this.#stage.length) this.#grow();
    this.#specs.push(r.spec);
    this.#stage[i] = r.stage;
    this.#attempt[i] = r.attempt;
    this.#lane[i] = this.#laneId(r.lane);
    this.#start[i] = r.startMs;
    this.#end[i] = r.endMs;
    this.#flags[i] =
      OUTCOMES.indexOf(r.outcome) |
      (r.speculative ? SPECULATIVE : 0) |
      (PHASES.indexOf(r.phase) << PHASE_SHIFT);
    const m = r.metrics;
    const at = i * METRICS;
    this.#metrics[at] = m ? m.inputBytes : Number.NaN;
    this.#metrics[at + 1] = m ? m.inputRecords : Number.NaN;
    this.#metrics[at + 2] = m ? m.outputBytes : Number.NaN;
    this.#metrics[at + 3] = m ? m.outputRecords : Number.NaN;
    if (r.error !== undefined) this.#errors.set(i, r.error);
    this.#length = i + 1;
  }

  record(i: number): AttemptRecord {
    const flags = this.#flags[i] as number;
    const error = this.#errors.get(i);
    const at = i * METRICS;
    const bytesIn = this.#metrics[at] as number;
    return {
      taskId: (this.#specs[i] as TaskSpec).taskId,
      stage: this.#stage[i] as number,
      phase: PHASES[flags >> PHASE_SHIFT] as Phase,
      attempt: this.#attempt[i] as number,
      lane: this.#lanes[this.#lane[i] as number] as string,
      startMs: this.#start[i] as number,
      endMs: this.#end[i] as number,
      outcome: OUTCOMES[flags & 7] as AttemptOutcome,
      speculative: (flags & SPECULATIVE) !== 0,
      ...(error !== undefined && { error }),
      ...(!Number.isNaN(bytesIn) && {
        bytesIn,
        recordsIn: this.#metrics[at + 1] as number,
        bytesOut: this.#metrics[at + 2] as number,
        recordsOut: this.#metrics[at + 3] as number,
      }),
    };
  }

  input(i: number): string {
    return (this.#specs[i] as TaskSpec).describe;
  }

  /** Whether an attempt of the task `spec` describes committed (searched from the latest back). */
  committed(spec: TaskSpec): boolean {
    for (let i = this.#length - 1; i >= 0; i--) {
      if (this.#specs[i] === spec && ((this.#flags[i] as number) & 7) === 0) return true;
    }
    return false;
  }

  #laneId(lane: string): number {
    let id = this.#laneIds.get(lane);
    if (id === undefined) {
      id = this.#lanes.push(lane) - 1;
      this.#laneIds.set(lane, id);
    }
    return id;
  }

  #grow(): void {
    const n = this.#stage.length * 2;
    const grown = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(
      a: T,
      make: new (n: number) => T,
      size: number,
    ): T => {
      const b = new make(size);
      b.set(a);
      return b;
    };
    this.#stage = grown(this.#stage, Uint16Array, n);
    this.#attempt = grown(this.#attempt, Uint32Array, n);
    this.#lane = grown(this.#lane, Uint32Array, n);
    this.#start = grown(this.#start, Float64Array, n);
    this.#end = grown(this.#end, Float64Array, n);
    this.#flags = grown(this.#flags, Uint8Array, n);
    this.#metrics = grown(this.#metrics, Float64Array, n * METRICS);
  }
}
