import { invokeAsync } from '../backends/invoke-async.js';
import type { DriveReply, DriverContext } from '../driver/drive-job.js';
import type { ScheduledEvent, TriggeredReply } from '../driver/triggered-run.js';
import type { UploadEvent } from '../driver/upload-run.js';
import type { LambdaReply } from '../protocol/lambda-protocol.js';
import { createHandler } from '../runtime/lambda-handler.js';
import { ShippedBundles } from '../runtime/shipped-bundles.js';
import { onFatalFault } from '../runtime/task-faults.js';

/** The part of Lambda's context object the handler reads. */
interface LambdaContext {
  getRemainingTimeInMillis(): number;
  functionName: string;
}

const bundles = new ShippedBundles();
const runTaskEvent = createHandler({ bundles });

/**
 * The runtime function's entry point (`index.handler` in the zip `mr deploy` ships): a task attempt
 * (`{ task, bundle }`, answered with its result), or a job's driver, which invokes this same
 * function for the job's tasks and, near its time limit, for the next driver: submitted
 * (`{ drive }`, see driveJob), fired by a schedule (`{ scheduled, drive }`, see runScheduled) or by a
 * new object (`{ upload }`, see runUpload).
 */
export async function handler(
  event: unknown,
  context: LambdaContext,
): Promise<LambdaReply | DriveReply | TriggeredReply> {
  const e = typeof event === 'object' && event !== null ? event : {};
  if (!('drive' in e) && !('upload' in e)) return runTaskEvent(event);
  // The driver is loaded only by the invocations that drive: a task's cold start never evaluates it.
  const ctx = driverContext(context);
  if ('scheduled' in e)
    return (await import('../driver/triggered-run.js')).runScheduled(e as ScheduledEvent, ctx, bundles);
  if ('upload' in e)
    return (await import('../driver/upload-run.js')).runUpload(e as UploadEvent, ctx, bundles);
  const { driveJob, parseDriveRequest } = await import('../driver/drive-job.js');
  return driveJob(parseDriveRequest(e as { drive: unknown }), ctx, bundles);
}

/** What a driver in this invocation needs of it: its time left, its name, and a way to start the next. */
function driverContext(context: LambdaContext): DriverContext {
  return {
    remainingMs: () => context.getRemainingTimeInMillis(),
    functionName: context.functionName,
    invokeNext: (next) => invokeAsync(context.functionName, { drive: next }),
  };
}

// An injected crash (FANOUT_FAULTS) ends the runtime, as a crashing function would; a hang waits for
// the function's timeout. Neither leaves a reply, so their counts do not reach the summary.
onFatalFault((kind) => {
  if (kind === 'crash') process.exit(1);
});
