import { FanoutError, JobDefinitionError, UserCodeError } from '../errors.js';
import type { Job, StageDefinition, TaskContext } from '../job/types.js';
import type { CombineFn } from '../shuffle/key-groups.js';
import { createLogger } from './logger.js';

/** Wraps an error thrown by job code so its message says where it came from; keeps the cause. */
export function userCodeError(where: string, err: unknown): FanoutError {
  if (err instanceof FanoutError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = new UserCodeError(`${where} threw: ${message}`, { cause: err, retryable: true });
  if (err instanceof Error && err.stack) wrapped.stack = err.stack;
  return wrapped;
}

/** True for a promise-like result; lets sync job code run without an await per record. */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** The stage a map or reduce task runs, and the context its job code sees. */
export function stageOf(
  job: Job,
  task: { jobId: string; taskId: string; attempt: number; stage: number },
): { stage: StageDefinition; ctx: TaskContext } {
  const stage = job.stages[task.stage];
  if (!stage) throw new JobDefinitionError(`job ${job.name} has no stage ${task.stage}`);
  const ctx: TaskContext = {
    jobId: task.jobId,
    taskId: task.taskId,
    attempt: task.attempt,
    stage: task.stage,
    log: createLogger(task),
  };
  return { stage, ctx };
}

/** The stage's combiner, if any, with its errors marked as coming from `combine`. */
export function combinerOf(stage: StageDefinition): CombineFn | undefined {
  const combine = stage.combine;
  if (!combine) return undefined;
  return (key, values) => {
    try {
      return combine(key as never, values as never);
    } catch (err) {
      throw userCodeError('combine', err);
    }
  };
}
