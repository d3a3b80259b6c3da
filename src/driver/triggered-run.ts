import { UsageError } from '../errors.js';
import { triggerFiredKey, triggerLatestKey } from '../protocol/store-layout.js';
import type { ShippedBundles } from '../runtime/shipped-bundles.js';
import { openStore } from '../store/open-store.js';
import { createLogger } from '../task/logger.js';
import { type DriveReply, type DriveRequest, type DriverContext, driveJob } from './drive-job.js';
import { isAbandoned, JobState } from './job-state.js';
import { idTime } from './run-job.js';

/**
 * What a schedule made by `mr schedule` sends the runtime function each time it fires: the job to
 * run (a driver's request without its id) and when it was due. EventBridge Scheduler fills in
 * `time` (`<aws.scheduler.scheduled-time>`) as it fires.
 */
export interface ScheduledEvent {
  scheduled: {
    /** The schedule's name: the run's job id is `<name>-<due time>`. */
    schedule: string;
    /** ISO 8601, UTC. */
    time: string;
    /** The schedule's timezone, in which `{date}` and `{time}` are written. @default 'UTC' */
    timezone?: string;
  };
  drive: Omit<DriveRequest, 'jobId' | 'generation'>;
}

/** What one firing did: ran (or handed over) the job, or skipped it, saying why. */
export type TriggeredReply = DriveReply | { ok: true; skipped: string };

/** Placeholders an input or output location may hold, written from the time a run was due. */
const PLACEHOLDERS = /\{(date|time|datetime)\}/g;

/**
 * `location` with `{date}` (YYYY-MM-DD), `{time}` (HH-MM-SS) and `{datetime}` (YYYY-MM-DDTHH-MM-SS)
 * written from `at` in `timezone`.
 * @example templated('s3://b/wc/{date}/', new Date('2026-12-03T03:00:00Z')) // 's3://b/wc/2026-12-03/'
 */
export function templated(location: string, at: Date, timezone = 'UTC'): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const time = `${parts.hour}-${parts.minute}-${parts.second}`;
  return location.replace(PLACEHOLDERS, (_, name: string) =>
    name === 'date' ? date : name === 'time' ? time : `${date}T${time}`,
  );
}

/**
 * Runs one firing of a schedule: the job id is the schedule's name and the due time, so a firing
 * delivered twice runs once (the first to record it in the work store wins). While the schedule's
 * previous run is still going, the firing is skipped, and said so in the log: runs never overlap
 * or pile up, and the next firing after it finishes runs as usual.
 */
export async function runScheduled(
  event: ScheduledEvent,
  ctx: DriverContext,
  bundles: ShippedBundles,
): Promise<TriggeredReply> {
  const { schedule, time, timezone } = event.scheduled;
  const at = new Date(time);
  if (Number.isNaN(at.getTime()))
    throw new TypeError(`event.scheduled.time is not a time: ${JSON.stringify(time)}`);
  const jobId = `${schedule}-${idTime(at)}`;
  const log = createLogger({ jobId });
  const { drive } = event;
  const work = openStore(drive.options.workDir);
  const fired = await work.putIf(triggerFiredKey(schedule, jobId), time, { ifAbsent: true });
  if (!fired.ok) {
    log.info(`schedule ${schedule} fired again for ${time}: already run, skipped`);
    return { ok: true, skipped: `already fired for ${time}` };
  }
  const latest = await work.get(triggerLatestKey(schedule)).then(
    (b) => Buffer.from(b).toString('utf8'),
    () => undefined,
  );
  if (latest !== undefined) {
    const status = await new JobState(work, latest).loadStatus();
    if (status?.state === 'running' && !isAbandoned(status)) {
      log.info(`schedule ${schedule} fired for ${time} while ${latest} still runs: skipped`);
      return { ok: true, skipped: `${latest} is still running` };
    }
  }
  await work.put(triggerLatestKey(schedule), jobId);
  const options = {
    ...drive.options,
    input: drive.options.input.map((i) => templated(i, at, timezone)),
    output: templated(drive.options.output, at, timezone),
  };
  return driveJob({ ...drive, options, jobId, generation: 0 }, ctx, bundles);
}

/** Schedule and rule names as Scheduler and EventBridge allow them, and as job ids may start. */
export function checkTriggerName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(
      `--name must be 1 to 64 letters, digits, '.', '_' or '-' (not first), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}
