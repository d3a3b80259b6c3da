import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { parseScheduleExpression } from '../dev/schedule-expression.js';
import { checkTriggerName, type ScheduledEvent } from '../driver/triggered-run.js';
import { FanoutError, UsageError } from '../errors.js';
import { awsCall, describeStack, stackOutputs } from '../infra/stack-operations.js';
import { functionArnOf } from './function-arn.js';
import { type SubmitFlags, shippedDrive } from './submit-command.js';

/** Flags of `mr schedule`: those of `mr submit`, when it fires, and who it runs as. */
export interface ScheduleFlags extends SubmitFlags {
  cron?: string;
  rate?: string;
  timezone?: string;
  name?: string;
  roleArn?: string;
  stackName?: string;
  /** mr dev only: fire the new schedule once at once, as if due now. */
  fireNow?: boolean;
}

/** Schedules live in EventBridge Scheduler's default group; Fanout's are told by their target's input. */
const GROUP = 'default';
/** EventBridge Scheduler's limit on a target's input. */
const MAX_INPUT_CHARS = 8192;

/**
 * `mr schedule`: an EventBridge Scheduler schedule whose target is the runtime function, sent the job
 * (shipped now) and the time it was due each time it fires; the function runs the job's driver, as
 * `mr submit` would, with `{date}` and `{time}` in the input and output written from that time.
 * @throws {UsageError} for a bad expression, timezone or name, or the flags `mr submit` refuses.
 */
export async function scheduleCommand(jobArg: string, flags: ScheduleFlags): Promise<string> {
  if ((flags.cron === undefined) === (flags.rate === undefined)) {
    throw new UsageError("mr schedule needs one of --cron '0 3 * * ? *' or --rate '1 hour'");
  }
  const expression = flags.cron !== undefined ? `cron(${flags.cron})` : `rate(${flags.rate})`;
  const timezone = flags.timezone ?? 'UTC';
  parseScheduleExpression(expression, timezone);
  if (flags.name !== undefined) checkTriggerName(flags.name);
  if (flags.output !== undefined && !/\{(date|time|datetime)\}/.test(flags.output)) {
    throw new UsageError(
      `each run needs its own output: put {date} (or {time}, {datetime}) in --output, got ${flags.output}`,
    );
  }
  const devScheduler = flags.fireNow ? devSchedulerEndpoint() : undefined;
  const { name: jobName, drive, opts } = await shippedDrive(jobArg, flags, 'mr schedule');
  const name = checkTriggerName(flags.name ?? jobName);
  const region = opts.region === undefined ? {} : { region: opts.region };
  const functionArn = await functionArnOf(opts.functionName, region);
  const roleArn =
    flags.roleArn ?? (await schedulerRole(flags.stackName ?? stackOf(opts.functionName), region));
  const event: ScheduledEvent = {
    scheduled: { schedule: name, time: '<aws.scheduler.scheduled-time>', timezone },
    drive,
  };
  const input = JSON.stringify(event);
  if (input.length > MAX_INPUT_CHARS) {
    throw new UsageError(
      `the schedule's input is ${input.length} characters, over EventBridge Scheduler's ${MAX_INPUT_CHARS}: pass fewer options (a --prices file, say)`,
    );
  }
  const scheduler = new SchedulerClient(region);
  try {
    await awsCall('EventBridge Scheduler CreateSchedule', () =>
      scheduler.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: GROUP,
          ScheduleExpression: expression,
          ScheduleExpressionTimezone: timezone,
          FlexibleTimeWindow: { Mode: 'OFF' },
          Description: `Fanout: ${drive.file} -> ${drive.options.output}`,
          State: 'ENABLED',
          Target: {
            Arn: functionArn,
            RoleArn: roleArn,
            Input: input,
            // A delivery tried again runs once: the firing's job id is recorded before it runs.
            RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
          },
        }),
      ),
    ).catch((err: unknown) => {
      if ((err as { cause?: { name?: string } }).cause?.name === 'ConflictException') {
        throw new UsageError(`a schedule named ${name} exists: mr unschedule ${name} first, or pass --name`);
      }
      throw err;
    });
  } finally {
    scheduler.destroy();
  }
  process.stdout.write(
    `schedule ${name}: ${expression} ${timezone}, ${drive.file} -> ${drive.options.output} (runs as ${roleArn})\n`,
  );
  if (devScheduler !== undefined) {
    const res = await fetch(`${devScheduler}/_fanout/fire/${encodeURIComponent(name)}?groupName=${GROUP}`, {
      method: 'POST',
    });
    if (!res.ok)
      throw new FanoutError(
        `mr dev's scheduler could not fire ${name}: HTTP ${res.status} ${await res.text()}`,
      );
    const fired = (await res.json()) as { scheduledTime: string };
    process.stdout.write(`fired ${name} as due at ${fired.scheduledTime}\n`);
  }
  return name;
}

/** `mr dev`'s scheduler, which can fire a schedule at once; EventBridge Scheduler itself cannot. */
function devSchedulerEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL_SCHEDULER;
  let host: string | undefined;
  try {
    host = endpoint === undefined ? undefined : new URL(endpoint).hostname;
  } catch {
    host = undefined;
  }
  if (host !== '127.0.0.1' && host !== 'localhost') {
    throw new UsageError(
      "--fire-now needs mr dev's scheduler (AWS_ENDPOINT_URL_SCHEDULER on 127.0.0.1): EventBridge Scheduler cannot fire a schedule at once",
    );
  }
  return (endpoint as string).replace(/\/$/, '');
}

/** One of Fanout's schedules, as `mr schedules` lists it. */
export interface ScheduleEntry {
  name: string;
  expression: string;
  timezone: string;
  state: string;
  job: string;
  output: string;
}

/** `mr schedules`: Fanout's schedules (those whose target is sent a scheduled job), one line each. */
export async function schedulesCommand(flags: { region?: string; json?: boolean }): Promise<ScheduleEntry[]> {
  const scheduler = new SchedulerClient(flags.region === undefined ? {} : { region: flags.region });
  const entries: ScheduleEntry[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await awsCall('EventBridge Scheduler ListSchedules', () =>
        scheduler.send(new ListSchedulesCommand({ GroupName: GROUP, ...(token && { NextToken: token }) })),
      );
      for (const s of page.Schedules ?? []) {
        const full = await awsCall('EventBridge Scheduler GetSchedule', () =>
          scheduler.send(new GetScheduleCommand({ Name: s.Name, GroupName: GROUP })),
        );
        const event = fanoutEvent(full);
        if (!event) continue;
        entries.push({
          name: full.Name ?? '',
          expression: full.ScheduleExpression ?? '',
          timezone: full.ScheduleExpressionTimezone ?? 'UTC',
          state: full.State ?? '',
          job: event.drive.file,
          output: event.drive.options.output,
        });
      }
      token = page.NextToken;
    } while (token);
  } finally {
    scheduler.destroy();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(entries)}\n`);
  else if (entries.length === 0) process.stdout.write('no Fanout schedules\n');
  else {
    for (const e of entries) {
      process.stdout.write(`${e.name}  ${e.expression} ${e.timezone}  ${e.state}  ${e.job} -> ${e.output}\n`);
    }
  }
  return entries;
}

/** `mr unschedule <name>`: deletes one of Fanout's schedules; runs already started go on. */
export async function unscheduleCommand(name: string, flags: { region?: string }): Promise<void> {
  const scheduler = new SchedulerClient(flags.region === undefined ? {} : { region: flags.region });
  try {
    const found = await scheduler
      .send(new GetScheduleCommand({ Name: name, GroupName: GROUP }))
      .catch((err: unknown) => {
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw err;
      });
    if (!found) throw new UsageError(`no schedule named ${name}`);
    if (!fanoutEvent(found)) throw new UsageError(`schedule ${name} was not made by mr schedule: left alone`);
    await awsCall('EventBridge Scheduler DeleteSchedule', () =>
      scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: GROUP })),
    );
  } finally {
    scheduler.destroy();
  }
  process.stdout.write(`schedule ${name} deleted\n`);
}

/** The scheduled job a schedule's target is sent, if it is one of Fanout's. */
function fanoutEvent(s: GetScheduleCommandOutput): ScheduledEvent | undefined {
  try {
    const event = JSON.parse(s.Target?.Input ?? '') as Partial<ScheduledEvent>;
    return event.scheduled && event.drive ? (event as ScheduledEvent) : undefined;
  } catch {
    return undefined;
  }
}

/** `mr deploy`'s stack of a function it named `<stack>-runtime`. */
function stackOf(functionName: string): string {
  const name = functionName.slice(functionName.lastIndexOf(':') + 1);
  return name.endsWith('-runtime') ? name.slice(0, -'-runtime'.length) : 'fanout';
}

/** The role `mr deploy`'s stack made for schedules (its `SchedulerRoleArn` output). */
async function schedulerRole(stackName: string, region: { region?: string }): Promise<string> {
  const cfn = new CloudFormationClient(region);
  try {
    const arn = stackOutputs(await describeStack(cfn, stackName)).SchedulerRoleArn;
    if (!arn) {
      throw new UsageError(
        `stack ${stackName} has no SchedulerRoleArn output: run mr deploy again, or pass --role-arn`,
      );
    }
    return arn;
  } finally {
    cfn.destroy();
  }
}
