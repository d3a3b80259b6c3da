import { JobPausedError, type SerializedError, serializeError } from '../errors.js';
import type { BundleRef } from '../protocol/lambda-protocol.js';
import type { ShippedBundles } from '../runtime/shipped-bundles.js';
import { createLogger } from '../task/logger.js';
import { type JobResult, runJob } from './run-job.js';
import type { RunOptions } from './run-options.js';

/** How long before the function's time limit a driver pauses and hands over, by default. */
export const DEFAULT_RESERVE_MS = 60_000;

/** The run options a submitted driver is given: everything but callbacks and what the driver sets. */
export type DriveOptions = Omit<
  RunOptions,
  'onProgress' | 'signal' | 'deadline' | 'resume' | 'jobId' | 'backend' | 'input' | 'output' | 'workDir'
> & { input: string[]; output: string; workDir: string };

/**
 * The payload of a submitted driver's invocation (`mr submit`): run the job in the bundle with these
 * options on the aws backend, its state in `options.workDir`. `generation` counts the job's drivers:
 * the first (0) starts it, each later one resumes it from the store after the one before paused
 * near the function's time limit.
 */
export interface DriveRequest {
  jobId: string;
  /** The job file the bundle was made from, as named where it was submitted. */
  file: string;
  bundle: BundleRef;
  options: DriveOptions;
  generation: number;
  /** How long before the function's time limit the driver pauses and hands over. @default 60000 */
  reserveMs?: number;
}

/** What a submitted driver's invocation returns (nobody waits for it: it is invoked as an Event). */
export type DriveReply =
  | { ok: true; result: JobResult }
  | { ok: true; handedOver: { generation: number } }
  | { ok: false; error: SerializedError };

/** What the driver needs of the function it runs in. */
export interface DriverContext {
  /** Lambda's `context.getRemainingTimeInMillis()`. */
  remainingMs(): number;
  /** The function tasks and the next driver are invoked on: this one. */
  functionName: string;
  /** Invokes this function again, asynchronously, with the next driver's request. */
  invokeNext(request: DriveRequest): Promise<void>;
}

/**
 * Checks a driver's event as far as the driver needs before it runs; its options are checked by
 * runJob as any run's are.
 * @throws {TypeError} naming the first field that is missing or malformed.
 */
export function parseDriveRequest(event: { drive: unknown }): DriveRequest {
  const d = event.drive as Partial<DriveRequest> | null;
  if (typeof d !== 'object' || d === null) throw new TypeError('event.drive must be an object');
  if (typeof d.jobId !== 'string' || typeof d.file !== 'string' || typeof d.generation !== 'number') {
    throw new TypeError('event.drive must carry jobId, file and generation');
  }
  const o = d.options as Partial<DriveOptions> | undefined | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    !Array.isArray(o.input) ||
    typeof o.output !== 'string' ||
    typeof o.workDir !== 'string'
  ) {
    throw new TypeError('event.drive.options must carry input, output and workDir');
  }
  const b = d.bundle as Partial<BundleRef> | undefined | null;
  if (typeof b !== 'object' || b === null || typeof b.key !== 'string' || typeof b.sha256 !== 'string') {
    throw new TypeError('event.drive.bundle must carry store, key, sha256 and bytes');
  }
  return d as DriveRequest;
}

/**
 * Runs a submitted job's driver in this function: the first generation starts the job under its id,
 * later ones resume it. The run pauses `reserveMs` before the function's limit (at least 5 s after
 * it starts); this invocation then starts the next driver, which resumes from the store, so a job
 * may run longer than one invocation may. Failures are in the job's status (and its notices) as for
 * any run, and in the reply.
 */
export async function driveJob(
  req: DriveRequest,
  ctx: DriverContext,
  bundles: ShippedBundles,
): Promise<DriveReply> {
  const log = createLogger({ jobId: req.jobId });
  const reserve = req.reserveMs ?? DEFAULT_RESERVE_MS;
  const deadline = Date.now() + Math.max(5_000, ctx.remainingMs() - reserve);
  try {
    const bundle = await bundles.file(req.bundle);
    log.info(`driver ${req.generation} ${req.generation === 0 ? 'starts' : 'resumes'} the job`);
    const result = await runJob(
      { file: req.file, bundle },
      {
        ...req.options,
        backend: 'aws',
        functionName: req.options.functionName ?? ctx.functionName,
        ...(req.generation === 0 ? { jobId: req.jobId } : { resume: req.jobId }),
        deadline,
      },
    );
    log.info(`job succeeded in ${result.wallMs} ms`);
    return { ok: true, result };
  } catch (err) {
    if (err instanceof JobPausedError) {
      const next = { ...req, generation: req.generation + 1 };
      try {
        await ctx.invokeNext(next);
      } catch (e) {
        // The job stays paused in the store: `mr resume` (or its status, once the heartbeat is old) says so.
        const error = serializeError(e);
        log.error(`could not hand over to driver ${next.generation}: ${error.message}`);
        return { ok: false, error };
      }
      log.info(`paused near the time limit; driver ${next.generation} goes on`);
      return { ok: true, handedOver: { generation: next.generation } };
    }
    const error = serializeError(err);
    log.error(`job failed: ${error.name}: ${error.message}`);
    return { ok: false, error };
  }
}
