import { serializeError } from '../errors.js';
import { type LambdaReply, parseLambdaEvent } from '../protocol/lambda-protocol.js';
import { createLogger, type LogSink } from '../task/logger.js';
import { runTask } from './run-task.js';
import { ShippedBundles, type ShippedBundlesOptions } from './shipped-bundles.js';
import { onFatalFault } from './task-faults.js';

export interface LambdaRuntimeOptions extends ShippedBundlesOptions {
  /** Where failure lines go. @default stderr (CloudWatch Logs on Lambda) */
  log?: LogSink;
}

/**
 * Builds a runtime handler with its own bundle cache; tests use this to isolate caches.
 * The handler runs one task attempt with the same `runTask` the local worker pool calls.
 * A failing task is answered as `{ ok: false, error }` with its `retryable` flag, so Lambda never
 * marks it a function error; only an event that is not a Fanout invocation makes it throw.
 * @throws {TypeError} when the event is malformed.
 */
export function createHandler(options: LambdaRuntimeOptions = {}): (event: unknown) => Promise<LambdaReply> {
  const bundles = new ShippedBundles(options);
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

/** The Lambda entry point (`lambda-handler.handler`): one module-level cache per execution environment. */
export const handler = createHandler();

// An injected crash (FANOUT_FAULTS) ends the runtime, as a crashing function would; a hang waits for
// the function's timeout. Neither leaves a reply, so their counts do not reach the summary.
onFatalFault((kind) => {
  if (kind === 'crash') process.exit(1);
});
