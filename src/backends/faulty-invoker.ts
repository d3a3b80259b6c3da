import type { Task, TaskResult } from '../protocol/task-types.js';
import { injectedError } from '../task/attempt-faults.js';
import type { FaultPlan } from '../task/faults.js';
import type { Invoker } from './invoker.js';

/**
 * An Invoker that refuses invocations at the `invoke:throttle` rate of the fault plan, as Lambda
 * answers 429 when out of capacity: before the task runs, with a ThrottledError, which the scheduler
 * retries without using up an attempt while it lowers its concurrency.
 */
export class FaultyInvoker implements Invoker {
  readonly #inner: Invoker;
  readonly #plan: FaultPlan;

  constructor(inner: Invoker, plan: FaultPlan) {
    this.#inner = inner;
    this.#plan = plan;
  }

  get concurrency(): number {
    return this.#inner.concurrency;
  }

  get prefetch(): number | undefined {
    return this.#inner.prefetch;
  }

  invoke(task: Task, onStart?: (lane: string) => void): Promise<TaskResult> {
    // Scoped by the attempt and counted per call: a throttled attempt keeps its number, so each
    // re-invocation of it must draw again.
    const kind = this.#plan.decide('invoke', `${task.taskId}#${task.attempt}`);
    if (kind) {
      return Promise.reject(
        injectedError('invoke', kind, `invoking ${task.taskId} attempt ${task.attempt}`, {
          [`invoke:${kind}`]: 1,
        }),
      );
    }
    return this.#inner.invoke(task, onStart);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** The invoker under the fault plan when it names `invoke`; the invoker itself otherwise. */
export function withInvokeFaults(inner: Invoker, plan: FaultPlan | null): Invoker {
  return plan?.names('invoke') ? new FaultyInvoker(inner, plan) : inner;
}
