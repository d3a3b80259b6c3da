import { invokeAsync } from '../backends/invoke-async.js';
import {
  type DriveReply,
  type DriverContext,
  driveJob,
  isDriveEvent,
  parseDriveRequest,
} from '../driver/drive-job.js';
import { isScheduledEvent, runScheduled, type TriggeredReply } from '../driver/triggered-run.js';
import { isUploadEvent, runUpload } from '../driver/upload-run.js';
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
  if (isScheduledEvent(event)) return runScheduled(event, driverContext(context), bundles);
  if (isUploadEvent(event)) return runUpload(event, driverContext(context), bundles);
  if (!isDriveEvent(event)) return runTaskEvent(event);
  return driveJob(parseDriveRequest(event), driverContext(context), bundles);
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
