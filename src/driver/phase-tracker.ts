import type { MapResult, MergeResult, ReduceResult } from '../protocol/task-types.js';
import { addFaults, type FaultCounts } from '../task/faults.js';
import type { Phase, ProgressEvent } from './progress.js';
import type { AttemptEvent, TaskSpec } from './schedule.js';
import { TaskStatusTable } from './task-status-table.js';

/**
 * Follows one phase's attempt events: keeps every task's status for the job state, counts what the
 * summary and the cost estimate need, and turns events into progress events for the user.
 */
export class PhaseTracker<R extends MapResult | MergeResult | ReduceResult> {
  /** Every task of the phase: its state, attempts so far and last error. */
  readonly status: TaskStatusTable;
  /** Attempts started, retries and speculative copies included. */
  invocations = 0;
  /** Time the committed attempts ran. */
  taskMs = 0;
  retries = 0;
  speculated = 0;
  /** Faults injected on purpose (FANOUT_FAULTS) in every attempt, committed or failed, by `site:kind`. */
  readonly faults: FaultCounts = {};
  #done = 0;
  /** Attempts running now (`taskId#attempt`): from `running` to the event that ends them. */
  readonly #running = new Set<string>();
  readonly #total: number;

  constructor(
    readonly stage: number,
    readonly phase: Phase,
    specs: readonly TaskSpec[],
    readonly emit: (e: ProgressEvent) => void,
    /** How long an attempt may run before the backend abandons it, shown beside slow attempts. */
    readonly taskTimeoutMs: number | undefined,
  ) {
    this.status = new TaskStatusTable(specs.map((spec) => spec.taskId));
    this.#total = specs.length;
  }

  /** The scheduler's one listener. */
  readonly onEvent = (e: AttemptEvent<R>): void => {
    const { stage, phase } = this;
    const id = e.type === 'concurrency' ? '' : `${e.spec.taskId}#${e.attempt}`;
    switch (e.type) {
      case 'running':
        this.#running.add(id);
        this.emit({
          type: 'task-start',
          stage,
          phase,
          taskId: e.spec.taskId,
          attempt: e.attempt,
          lane: e.lane,
          inFlight: this.#running.size,
        });
        return;
      case 'superseded':
      case 'dropped':
        this.#running.delete(id);
        return;
      case 'started':
        this.invocations++;
        this.status.set(e.spec.taskId, 'running', e.attempt);
        return;
      case 'committed':
        this.#running.delete(id);
        this.taskMs += e.result.metrics.ms;
        addFaults(this.faults, e.result.metrics.faults);
        this.status.set(e.spec.taskId, 'committed', e.attempt);
        this.status.clearError(e.spec.taskId);
        this.emit({
          type: 'task-done',
          stage,
          phase,
          taskId: e.spec.taskId,
          attempt: e.attempt,
          done: ++this.#done,
          total: this.#total,
          inFlight: this.#running.size,
          metrics: e.result.metrics,
        });
        return;
      case 'retry':
        this.#running.delete(id);
        this.retries++;
        addFaults(this.faults, e.error.faults);
        this.status.set(e.spec.taskId, 'retrying', e.attempt, e.error.message);
        this.emit({
          type: 'task-retry',
          stage,
          phase,
          taskId: e.spec.taskId,
          attempt: e.attempt,
          error: e.error.message,
          delayMs: e.delayMs,
        });
        return;
      case 'gave-up':
        this.#running.delete(id);
        addFaults(this.faults, e.error.faults);
        this.status.set(e.spec.taskId, 'failed', e.attempt, e.error.message);
        return;
      case 'speculated':
        this.speculated++;
        this.emit({ type: 'task-speculated', stage, phase, taskId: e.spec.taskId, attempt: e.attempt });
        return;
      case 'slow':
        this.emit({
          type: 'task-slow',
          stage,
          phase,
          taskId: e.spec.taskId,
          attempt: e.attempt,
          runningMs: e.runningMs,
          ...(e.medianMs !== undefined && { medianMs: e.medianMs }),
          ...(this.taskTimeoutMs !== undefined && { timeoutMs: this.taskTimeoutMs }),
        });
        return;
      case 'concurrency':
        this.emit({ type: 'concurrency', stage, phase, limit: e.limit, reason: e.reason });
        return;
    }
  };
}
