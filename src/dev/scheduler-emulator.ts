import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { invokeAsync } from '../backends/invoke-async.js';
import { UsageError } from '../errors.js';
import { answerJson } from './json-reply.js';
import { nextFireTime, parseScheduleExpression, type ScheduleExpression } from './schedule-expression.js';

/** How to start the EventBridge Scheduler emulator. */
export interface SchedulerEmulatorOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Region in schedule ARNs. @default 'us-east-1' */
  region?: string;
  /** Delivers one firing to a schedule's target; a rejection is recorded in `firings()`, never thrown. */
  invoke(targetArn: string, input: string): Promise<void>;
  /** The clock schedules are created and fired by. @default () => new Date() */
  now?: () => Date;
}

/** One time a schedule fired, whether its target accepted the invocation or not. */
export interface Firing {
  name: string;
  group: string;
  /** The time it was due, as substituted for `<aws.scheduler.scheduled-time>`: `2026-12-03T03:00:00Z`. */
  scheduledTime: string;
  executionId: string;
  targetArn: string;
  /** Target.Input with the context attributes substituted, as passed to `invoke`. */
  input: string;
  /** The message of the error `invoke` failed with; absent when it succeeded. */
  error?: string;
}

/** A running in-memory EventBridge Scheduler API on loopback that fires its schedules. */
export interface SchedulerEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /**
   * Fires a schedule at once, whatever its state, as if it were due at `at` (default now, rounded
   * down to the second), and settles when its target has been invoked.
   * @throws {UsageError} when there is no such schedule.
   */
  fireNow(name: string, group?: string, at?: Date): Promise<Firing>;
  /** Every firing so far, oldest first, each added once its invocation has settled. */
  firings(): readonly Firing[];
  /** Stops firing, closes the server and drops its schedules; safe to call twice. */
  stop(): Promise<void>;
}

/** Where AWS's API names a schedule's target; kept as sent, with AWS's default retry policy. */
interface Target {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy: { MaximumEventAgeInSeconds: number; MaximumRetryAttempts: number };
  [member: string]: unknown;
}

interface Schedule {
  name: string;
  group: string;
  arn: string;
  expression: string;
  timezone: string | undefined;
  parsed: ScheduleExpression;
  state: 'ENABLED' | 'DISABLED';
  target: Target;
  flexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  description: string | undefined;
  kmsKeyArn: string | undefined;
  startDate: Date | undefined;
  endDate: Date | undefined;
  actionAfterCompletion: 'NONE' | 'DELETE';
  created: Date;
  modified: Date;
  /** A one-time schedule that has fired. */
  done: boolean;
  timer?: NodeJS.Timeout;
}

/** An error the API answers with, named as the SDK's exception classes are. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const validation = (message: string) => new ApiError(400, 'ValidationException', message);

/** Longest single wait; longer ones re-arm, so a wall clock that jumps is noticed within a minute. */
const MAX_WAIT_MS = 60_000;
const NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

/**
 * Starts an in-memory EventBridge Scheduler on 127.0.0.1 that `@aws-sdk/client-scheduler` can talk
 * to: CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule and ListSchedules, in any group
 * (groups need not be created). It accepts any credentials. Every ENABLED schedule fires on time:
 * its Target.Input, with the `<aws.scheduler.*>` context attributes substituted, goes to `invoke`.
 * Unlike AWS it fires exactly on time (no flexible window), tries each invocation once, and fires
 * a missed time once, not every one missed. `POST /_fanout/fire/<name>?groupName=` (not AWS's) fires
 * a schedule at once, as due now, and answers the firing: `mr schedule --fire-now` under `mr dev`.
 */
export async function startSchedulerEmulator(o: SchedulerEmulatorOptions): Promise<SchedulerEmulator> {
  const region = o.region ?? 'us-east-1';
  const now = o.now ?? (() => new Date());
  const schedules = new Map<string, Schedule>();
  const log: Firing[] = [];
  let stopped: Promise<void> | undefined;

  /** When `s` is due next after `after`, within its StartDate and EndDate. */
  const nextDue = (s: Schedule, after: Date): Date | undefined => {
    if (s.parsed.kind === 'at') return s.done ? undefined : nextFireTime(s.parsed, after, s.created);
    const start = s.startDate ?? s.created;
    const from = start.getTime() > after.getTime() ? new Date(start.getTime() - 1) : after;
    const due = nextFireTime(s.parsed, from, floorSecond(start));
    return due !== undefined && s.endDate !== undefined && due.getTime() >= s.endDate.getTime()
      ? undefined
      : due;
  };

  const disarm = (s: Schedule) => {
    clearTimeout(s.timer);
    s.timer = undefined;
  };

  const arm = (s: Schedule, after: Date) => {
    disarm(s);
    if (stopped !== undefined || s.state !== 'ENABLED') return;
    const due = nextDue(s, after);
    if (due === undefined) return;
    const wait = () => {
      const left = due.getTime() - now().getTime();
      if (left > 0) {
        s.timer = setTimeout(wait, Math.min(left, MAX_WAIT_MS)).unref();
        return;
      }
      s.timer = undefined;
      if (schedules.get(key(s.name, s.group)) !== s) return;
      void fire(s, due);
      // From now on, not from `due`: after a long stall the times missed meanwhile are skipped.
      arm(s, new Date(Math.max(due.getTime(), now().getTime())));
    };
    wait();
  };

  const fire = async (s: Schedule, at: Date): Promise<Firing> => {
    if (s.parsed.kind === 'at') {
      s.done = true;
      disarm(s);
    }
    const scheduledTime = `${floorSecond(at).toISOString().slice(0, 19)}Z`;
    const executionId = randomUUID();
    const input = (s.target.Input ?? '{}')
      .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime)
      .replaceAll('<aws.scheduler.execution-id>', executionId)
      .replaceAll('<aws.scheduler.schedule-arn>', s.arn)
      .replaceAll('<aws.scheduler.attempt-number>', '1');
    const firing: Firing = {
      name: s.name,
      group: s.group,
      scheduledTime,
      executionId,
      targetArn: s.target.Arn,
      input,
    };
    try {
      await o.invoke(s.target.Arn, input);
    } catch (err) {
      firing.error = err instanceof Error ? err.message : String(err);
    }
    log.push(firing);
    const completed = s.parsed.kind === 'at' || nextDue(s, at) === undefined;
    if (s.actionAfterCompletion === 'DELETE' && completed && schedules.get(key(s.name, s.group)) === s) {
      disarm(s);
      schedules.delete(key(s.name, s.group));
    }
    return firing;
  };

  const api = (method: string, url: URL, body: Record<string, unknown>): unknown => {
    if (url.pathname === '/schedules' && method === 'GET') return listSchedules(url.searchParams);
    const m = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    if (m === null)
      throw new ApiError(404, 'UnknownOperationException', `no operation at ${method} ${url.pathname}`);
    const name = decodeURIComponent(m[1] as string);
    if (!NAME.test(name)) throw validation(`schedule name ${JSON.stringify(name)} must match ${NAME.source}`);
    if (method === 'POST') {
      const group = groupOf(body.GroupName);
      if (schedules.has(key(name, group)))
        throw new ApiError(409, 'ConflictException', `Schedule ${name} already exists.`);
      const at = now();
      const s = readSchedule(name, group, body, at, at);
      schedules.set(key(name, group), s);
      arm(s, at);
      return { ScheduleArn: s.arn };
    }
    if (method === 'PUT') {
      const group = groupOf(body.GroupName);
      const old = found(name, group);
      const s = readSchedule(name, group, body, old.created, now());
      disarm(old);
      schedules.set(key(name, group), s);
      arm(s, s.modified);
      return { ScheduleArn: s.arn };
    }
    const group = groupOf(url.searchParams.get('groupName') ?? undefined);
    if (method === 'GET') return scheduleOutput(found(name, group));
    if (method === 'DELETE') {
      const s = found(name, group);
      disarm(s);
      schedules.delete(key(name, group));
      return {};
    }
    throw new ApiError(405, 'UnknownOperationException', `no operation at ${method} ${url.pathname}`);
  };

  const found = (name: string, group: string): Schedule => {
    const s = schedules.get(key(name, group));
    if (s === undefined)
      throw new ApiError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return s;
  };

  const readSchedule = (
    name: string,
    group: string,
    b: Record<string, unknown>,
    created: Date,
    modified: Date,
  ): Schedule => {
    const expression = b.ScheduleExpression;
    if (typeof expression !== 'string') throw validation('ScheduleExpression is required');
    const timezone = optionalString(b.ScheduleExpressionTimezone, 'ScheduleExpressionTimezone');
    let parsed: ScheduleExpression;
    try {
      parsed = parseScheduleExpression(expression, timezone);
    } catch (err) {
      if (err instanceof UsageError) throw validation(err.message);
      throw err;
    }
    const startDate = optionalDate(b.StartDate, 'StartDate');
    const endDate = optionalDate(b.EndDate, 'EndDate');
    if (startDate !== undefined && endDate !== undefined && endDate.getTime() <= startDate.getTime()) {
      throw validation('EndDate must be after StartDate');
    }
    const description = optionalString(b.Description, 'Description');
    if (description !== undefined && description.length > 512) throw validation('Description is too long');
    return {
      name,
      group,
      arn: `arn:aws:scheduler:${region}:000000000000:schedule/${group}/${name}`,
      expression,
      timezone,
      parsed,
      state: oneOf(b.State, 'State', ['ENABLED', 'DISABLED'] as const, 'ENABLED'),
      target: readTarget(b.Target),
      flexibleTimeWindow: readWindow(b.FlexibleTimeWindow),
      description,
      kmsKeyArn: optionalString(b.KmsKeyArn, 'KmsKeyArn'),
      startDate,
      endDate,
      actionAfterCompletion: oneOf(
        b.ActionAfterCompletion,
        'ActionAfterCompletion',
        ['NONE', 'DELETE'] as const,
        'NONE',
      ),
      created,
      modified,
      done: false,
    };
  };

  const listSchedules = (q: URLSearchParams) => {
    const group = q.get('ScheduleGroup') ?? undefined;
    const prefix = q.get('NamePrefix') ?? '';
    const state = q.get('State') ?? undefined;
    if (state !== undefined) oneOf(state, 'State', ['ENABLED', 'DISABLED'] as const, 'ENABLED');
    const max = q.has('MaxResults') ? Number(q.get('MaxResults')) : 100;
    if (!Number.isInteger(max) || max < 1 || max > 100) throw validation('MaxResults must be 1-100');
    const after = q.has('NextToken') ? readToken(q.get('NextToken') as string) : undefined;
    const matching = [...schedules.values()]
      .filter(
        (s) =>
          (group === undefined || s.group === group) &&
          s.name.startsWith(prefix) &&
          (state === undefined || s.state === state),
      )
      .sort((a, b) => compareKeys(a, b))
      .filter((s) => after === undefined || compareKeys(s, after) > 0);
    const page = matching.slice(0, max);
    const last = page.at(-1);
    return {
      Schedules: page.map((s) => ({
        Arn: s.arn,
        Name: s.name,
        GroupName: s.group,
        State: s.state,
        CreationDate: seconds(s.created),
        LastModificationDate: seconds(s.modified),
        Target: { Arn: s.target.Arn },
      })),
      ...(matching.length > max && last !== undefined
        ? { NextToken: Buffer.from(JSON.stringify([last.group, last.name])).toString('base64url') }
        : {}),
    };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = {};
        try {
          if (text.trim() !== '') body = JSON.parse(text);
        } catch {
          throw validation('the request body is not JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw validation('the body must be an object');
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        // Not AWS's: how `mr schedule --fire-now` fires a schedule of `mr dev` at once.
        const fireNow = /^\/_fanout\/fire\/([^/]+)$/.exec(url.pathname);
        if (fireNow && req.method === 'POST') {
          const schedule = found(
            decodeURIComponent(fireNow[1] as string),
            groupOf(url.searchParams.get('groupName') ?? undefined),
          );
          fire(schedule, floorSecond(now())).then(
            (firing) => answerJson(res, 200, firing),
            (err: unknown) =>
              answerJson(res, 500, { Message: String(err) }, { errorType: 'InternalServerException' }),
          );
          return;
        }
        answerJson(res, 200, api(req.method ?? 'GET', url, body as Record<string, unknown>));
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError(500, 'InternalServerException', String(err));
        answerJson(res, e.status, { Message: e.message }, { errorType: e.type });
      }
    });
  });
  await new Promise<void>((res, rej) =>
    server.once('error', rej).listen(o.port ?? 0, '127.0.0.1', () => res()),
  );

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fireNow: (name, group = 'default', at = floorSecond(now())) => {
      const s = schedules.get(key(name, group));
      if (s === undefined) return Promise.reject(new UsageError(`no schedule ${name} in group ${group}`));
      return fire(s, at);
    },
    firings: () => log,
    stop: () => {
      stopped ??= new Promise<void>((res) => {
        for (const s of schedules.values()) disarm(s);
        schedules.clear();
        server.closeAllConnections();
        server.close(() => res());
      });
      return stopped;
    },
  };
}

/**
 * Invokes a Lambda function asynchronously (InvocationType Event) through the Lambda API at
 * `endpoint`, as EventBridge Scheduler does for a Lambda target: a SchedulerEmulator's `invoke`. The
 * function is named by its ARN (`arn:aws:lambda:us-east-1:000000000000:function:fanout-runtime`,
 * optionally with a `:qualifier`) or by its bare name.
 */
export function lambdaInvoker(endpoint: string): (targetArn: string, input: string) => Promise<void> {
  const client = new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'dev', secretAccessKey: 'dev' },
  });
  return async (targetArn, input) => {
    const [, name = targetArn, qualifier] = /:function:([^:]+)(?::([^:]+))?$/.exec(targetArn) ?? [];
    await invokeAsync(name, input, { client, ...(qualifier !== undefined && { qualifier }) });
  };
}

const key = (name: string, group: string) => `${group}/${name}`;

const floorSecond = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

/** Epoch seconds, as the REST-JSON protocol writes timestamps. */
const seconds = (d: Date) => d.getTime() / 1000;

function compareKeys(a: { group: string; name: string }, b: { group: string; name: string }): number {
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function readToken(token: string): { group: string; name: string } {
  try {
    const [group, name] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof group === 'string' && typeof name === 'string') return { group, name };
  } catch {
    // Answered below.
  }
  throw validation('NextToken is not one this API gave');
}

function groupOf(value: unknown): string {
  if (value === undefined || value === null) return 'default';
  if (typeof value !== 'string' || !NAME.test(value)) throw validation(`GroupName must match ${NAME.source}`);
  return value;
}

function optionalString(value: unknown, member: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(`${member} must be a string`);
  return value;
}

/** A timestamp member: epoch seconds from the SDK, or an ISO 8601 string from a hand-written request. */
function optionalDate(value: unknown, member: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d =
    typeof value === 'number'
      ? new Date(value * 1000)
      : typeof value === 'string'
        ? new Date(value)
        : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) throw validation(`${member} is not a timestamp`);
  return d;
}

function oneOf<T extends string>(value: unknown, member: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (!allowed.includes(value as T)) throw validation(`${member} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function readTarget(value: unknown): Target {
  if (typeof value !== 'object' || value === null) throw validation('Target is required');
  const t = value as Record<string, unknown>;
  if (typeof t.Arn !== 'string' || t.Arn === '') throw validation('Target.Arn is required');
  if (typeof t.RoleArn !== 'string' || t.RoleArn === '') throw validation('Target.RoleArn is required');
  optionalString(t.Input, 'Target.Input');
  const retry = (t.RetryPolicy ?? {}) as Record<string, unknown>;
  return {
    ...t,
    Arn: t.Arn,
    RoleArn: t.RoleArn,
    RetryPolicy: {
      MaximumEventAgeInSeconds: (retry.MaximumEventAgeInSeconds as number | undefined) ?? 86_400,
      MaximumRetryAttempts: (retry.MaximumRetryAttempts as number | undefined) ?? 185,
    },
  };
}

function readWindow(value: unknown): Schedule['flexibleTimeWindow'] {
  if (typeof value !== 'object' || value === null) throw validation('FlexibleTimeWindow is required');
  const w = value as Record<string, unknown>;
  if (w.Mode === undefined) throw validation('FlexibleTimeWindow.Mode is required');
  const mode = oneOf(w.Mode, 'FlexibleTimeWindow.Mode', ['OFF', 'FLEXIBLE'] as const, 'OFF');
  if (mode === 'OFF') return { Mode: mode };
  const minutes = w.MaximumWindowInMinutes;
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw validation('FlexibleTimeWindow.MaximumWindowInMinutes must be 1-1440 when Mode is FLEXIBLE');
  }
  return { Mode: mode, MaximumWindowInMinutes: minutes };
}

/** GetSchedule's answer. */
function scheduleOutput(s: Schedule): Record<string, unknown> {
  return {
    Arn: s.arn,
    Name: s.name,
    GroupName: s.group,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: s.timezone ?? 'UTC',
    State: s.state,
    Target: s.target,
    FlexibleTimeWindow: s.flexibleTimeWindow,
    ActionAfterCompletion: s.actionAfterCompletion,
    CreationDate: seconds(s.created),
    LastModificationDate: seconds(s.modified),
    ...(s.description === undefined ? {} : { Description: s.description }),
    ...(s.kmsKeyArn === undefined ? {} : { KmsKeyArn: s.kmsKeyArn }),
    ...(s.startDate === undefined ? {} : { StartDate: seconds(s.startDate) }),
    ...(s.endDate === undefined ? {} : { EndDate: seconds(s.endDate) }),
  };
}
