import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { invokeAsync } from '../backends/invoke-async.js';
import { loadJobFile } from '../backends/open-backend.js';
import { shipBundle } from '../backends/ship-bundle.js';
import { DEFAULT_RESERVE_MS, type DriveRequest } from '../driver/drive-job.js';
import { newJobId, requireRemote } from '../driver/run-job.js';
import { type ResolvedOptions, resolveOptions } from '../driver/run-options.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { openStore } from '../store/open-store.js';
import { type RunFlags, runOptionsFrom } from './run-command.js';

/** Flags of `mr submit`: those of `mr run`, and how long before its time limit a driver hands over. */
export interface SubmitFlags extends RunFlags {
  reserve?: string;
}

/** What `mr submit` did: the job's id and where its state is. */
export interface Submitted {
  jobId: string;
  functionName: string;
  workDir: string;
}

/**
 * `mr submit`: runs the job's driver in the runtime function instead of here. The job is bundled and
 * shipped to the work store, given its id, and handed to the function in an asynchronous invocation;
 * nothing here waits for it. `mr status`, `mr logs`, `mr cancel`, `mr resume` and `mr report` find
 * it by its id in the work store, as for a run started here.
 * @throws {UsageError} for a backend other than aws, local input or output, or any bad flag.
 */
/** A job bundled and shipped to the work store, with what its drivers will be asked to run. */
export interface ShippedDrive {
  /** The job's own name (`defineJob({ name })`). */
  name: string;
  drive: Omit<DriveRequest, 'jobId' | 'generation'>;
  opts: ResolvedOptions;
}

/**
 * What `mr submit` and `mr schedule` do first: check the flags as `mr run` would (on aws, with S3
 * input and output), bundle the job file and ship the bundle to the work store.
 * @throws {UsageError} for a backend other than aws, local input or output, or any bad flag.
 */
export async function shippedDrive(
  jobArg: string,
  flags: SubmitFlags,
  command: string,
): Promise<ShippedDrive> {
  const jobFile = resolve(jobArg);
  if (!existsSync(jobFile)) throw new UsageError(`job file not found: ${jobArg}`);
  if (flags.backend !== undefined && flags.backend !== 'aws') {
    throw new UsageError(`${command} runs the driver on aws: --backend ${flags.backend} is not for it`);
  }
  if (!flags.input || flags.input.length === 0) throw new UsageError(`${command} needs --input s3://...`);
  if (flags.output === undefined) throw new UsageError(`${command} needs --output s3://...`);
  requireRemote(command, flags.output, flags.input);
  const reserveMs =
    flags.reserve === undefined ? DEFAULT_RESERVE_MS : parseDuration(flags.reserve, '--reserve');
  const given = { ...runOptionsFrom(flags.input, flags), backend: 'aws' as const };
  // Checked here, so a bad flag is one line now rather than a failed driver later.
  const opts = resolveOptions(given);
  const { job, bundle } = await loadJobFile(jobFile, 'job');
  const ref = await shipBundle(bundle, openStore(opts.workDir));
  const { backend: _, ...options } = given;
  return {
    name: job.name,
    drive: {
      file: jobFile,
      bundle: ref,
      options: { ...options, input: opts.input, output: flags.output, workDir: opts.workDir },
      reserveMs,
    },
    opts,
  };
}

export async function submitCommand(jobArg: string, flags: SubmitFlags): Promise<Submitted> {
  const { name, drive, opts } = await shippedDrive(jobArg, flags, 'mr submit');
  const jobId = newJobId(name);
  const request: DriveRequest = { ...drive, jobId, generation: 0 };
  await invokeAsync(
    opts.functionName,
    { drive: request },
    { config: opts.region === undefined ? {} : { region: opts.region } },
  );
  process.stderr.write(`job ${jobId}\n`);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ jobId, functionName: opts.functionName, workDir: opts.workDir })}\n`,
    );
  } else if (!flags.quiet) {
    process.stdout.write(
      `submitted to ${opts.functionName}; follow it with: mr status ${jobId} --work ${opts.workDir}\n`,
    );
  }
  return { jobId, functionName: opts.functionName, workDir: opts.workDir };
}
