import { serializeError } from '../errors.js';
import { type LambdaReply, parseLambdaEvent } from '../protocol/lambda-protocol.js';
import { createLogger, type LogSink } from '../task/logger.js';
import { runTask } from './run-task.js';
import { ShippedBundles, type ShippedBundlesOptions } from './shipped-bundles.js';

export interface LambdaRuntimeOptions extends ShippedBundlesOptions {
  /** Where failure lines go. @default stderr (CloudWatch Logs on Lambda) */
  log?: LogSink;
  /** A bundle cache to share (with a driver in the same function). @default one of its own */
  bundles?: ShippedBundles;
}

/**
 * Builds the handler of task attempts with its own bundle cache (tests use this to isolate caches);
 * the function's entry point, src/infra/function-handler.ts, routes task events to it.
 * The handler runs one task attempt with the same `runTask` the local worker pool calls.
 * A failing task is answered as `{ ok: false, error }` with its `retryable` flag, so Lambda never
 * marks it a function error; only an event that is not a Fanout invocation makes it throw.
 * @throws {TypeError} when the event is malformed.
 */
export function createHandler(options: LambdaRuntimeOptions = {}): (event: unknown) => Promise<LambdaReply> {
  const bundles = options.bundles ?? new ShippedBundles(options);
  return async (event) => {
    const { task, bundle } = parseLambdaEvent(event);
    try {
      const job = await bundles.load(bundle);
      return { ok: true, result: await runTask(job, task) };
    } catch (err) {
      const error = serializeError(err);
      createLogger({ jobId: task.jobId, taskId: task.taskId }, options.log).error(
        `attempt ${task.attempt} failed: ${error.name}: ${error.message}`,
      );
      return { ok: false, error };
    }
  };
}
