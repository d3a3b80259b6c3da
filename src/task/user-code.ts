import { inspect } from 'node:util';
import { FanoutError, JobDefinitionError, NotJsonError, UserCodeError } from '../errors.js';
import type { Job, StageDefinition, TaskContext } from '../job/types.js';
import type { CombineFn } from '../shuffle/key-groups.js';
import { createLogger } from './logger.js';
import { TaskLog } from './task-log.js';

/**
 * Wraps an error thrown by job code so its message says where it came from; keeps the cause. A
 * NotJsonError found while serialising what the code emitted gets the code's name in front. A
 * thrown value that is not an Error stays retryable (the code decides what it throws) and is shown
 * as JSON, where `String()` would say only `[object Object]`.
 */
export function userCodeError(where: string, err: unknown): FanoutError {
  if (err instanceof NotJsonError) {
    return new UserCodeError(`${where} ${err.message}`, { cause: err, retryable: false });
  }
  if (err instanceof FanoutError) return err;
  if (!(err instanceof Error)) {
    return new UserCodeError(`${where} threw a non-Error value: ${describeThrown(err)}`, {
      cause: err,
      retryable: true,
    });
  }
  const wrapped = new UserCodeError(`${where} threw: ${err.message}`, { cause: err, retryable: true });
  if (err.stack) wrapped.stack = err.stack;
  return wrapped;
}

/** Longest text of a thrown non-Error shown in a message, which must stay one line. */
const THROWN_CHARS = 200;

/** A thrown value on one line: its JSON, or what util.inspect says where JSON has nothing. */
function describeThrown(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    // circular or holding a BigInt: inspect shows it anyway
  }
  text ??= inspect(v, { breakLength: Number.POSITIVE_INFINITY, depth: 2 });
  return text.length > THROWN_CHARS ? `${text.slice(0, THROWN_CHARS)}...` : text;
}

/** True for a promise-like result; lets sync job code run without an await per record. */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** The stage a map or reduce task runs, and the context its job code sees. */
export function stageOf(
  job: Job,
  task: {
    jobId: string;
    taskId: string;
    attempt: number;
    stage: number;
    log?: { store: string; key: string };
  },
): { stage: StageDefinition; ctx: TaskContext; log: TaskLog } {
  const stage = job.stages[task.stage];
  if (!stage) throw new JobDefinitionError(`job ${job.name} has no stage ${task.stage}`);
  const log = new TaskLog(task.log);
  const ctx: TaskContext = {
    jobId: task.jobId,
    taskId: task.taskId,
    attempt: task.attempt,
    stage: task.stage,
    log: createLogger(task, log.sink),
  };
  return { stage, ctx, log };
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
