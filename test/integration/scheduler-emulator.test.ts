/**
 * The EventBridge Scheduler emulator, driven by the real `@aws-sdk/client-scheduler`: the five
 * schedule operations with AWS's error names, firing on demand with the context attributes
 * substituted, firing on its own when a schedule comes due, and a failing target recorded, not thrown.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  lambdaInvoker,
  type SchedulerEmulator,
  startSchedulerEmulator,
} from '../../src/dev/scheduler-emulator.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fanout-runtime';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/scheduler';
const ISO_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Call {
  targetArn: string;
  input: string;
}

const running: SchedulerEmulator[] = [];

async function start(
  invoke: (targetArn: string, input: string) => Promise<void> = async () => {},
): Promise<{ emulator: SchedulerEmulator; client: SchedulerClient }> {
  const emulator = await startSchedulerEmulator({ invoke });
  running.push(emulator);
  const client = new SchedulerClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'dev', secretAccessKey: 'dev' },
    maxAttempts: 1,
  });
  return { emulator, client };
}

function schedule(name: string, more: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput {
  return {
    Name: name,
    ScheduleExpression: 'cron(0 3 * * ? *)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN, Input: '{"job":"nightly"}' },
    ...more,
  };
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

describe('scheduler emulator', () => {
  it('creates, gets, updates and deletes a schedule', async () => {
    const { client } = await start();
    const before = Date.now() / 1000;
    const created = await client.send(
      new CreateScheduleCommand(
        schedule('nightly', {
          Description: 'the nightly run',
          ScheduleExpressionTimezone: 'Europe/Paris',
          EndDate: new Date('2030-01-01T00:00:00Z'),
        }),
      ),
    );
    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly');

    const got = await client.send(new GetScheduleCommand({ Name: 'nightly' }));
    expect(got).toMatchObject({
      Arn: created.ScheduleArn,
      Name: 'nightly',
      GroupName: 'default',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      Description: 'the nightly run',
      ActionAfterCompletion: 'NONE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: FUNCTION_ARN,
        RoleArn: ROLE_ARN,
        Input: '{"job":"nightly"}',
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      },
    });
    expect(got.CreationDate).toBeInstanceOf(Date);
    expect((got.CreationDate as Date).getTime() / 1000).toBeGreaterThanOrEqual(Math.floor(before));
    expect(got.EndDate?.toISOString()).toBe('2030-01-01T00:00:00.000Z');

    const updated = await client.send(
      new UpdateScheduleCommand(
        schedule('nightly', { ScheduleExpression: 'rate(1 hour)', State: 'DISABLED', GroupName: 'default' }),
      ),
    );
    expect(updated.ScheduleArn).toBe(created.ScheduleArn);
    const after = await client.send(new GetScheduleCommand({ Name: 'nightly', GroupName: 'default' }));
    expect(after).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'DISABLED' });
    expect(after.Description).toBeUndefined();
    expect(after.CreationDate).toEqual(got.CreationDate);
    expect((after.LastModificationDate as Date).getTime()).toBeGreaterThanOrEqual(
      (got.LastModificationDate as Date).getTime(),
    );

    expect(await client.send(new DeleteScheduleCommand({ Name: 'nightly' }))).toMatchObject({});
    await expect(client.send(new GetScheduleCommand({ Name: 'nightly' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('keeps schedules of different groups apart', async () => {
    const { client } = await start();
    const arn = (await client.send(new CreateScheduleCommand(schedule('same', { GroupName: 'jobs' }))))
      .ScheduleArn;
    expect(arn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/jobs/same');
    await client.send(new CreateScheduleCommand(schedule('same')));
    expect((await client.send(new GetScheduleCommand({ Name: 'same', GroupName: 'jobs' }))).GroupName).toBe(
      'jobs',
    );
    await client.send(new DeleteScheduleCommand({ Name: 'same', GroupName: 'jobs' }));
    expect((await client.send(new GetScheduleCommand({ Name: 'same' }))).GroupName).toBe('default');
  });

  it('lists schedules by group, prefix and state, a page at a time', async () => {
    const { client } = await start();
    for (const name of ['job-c', 'job-a', 'other', 'job-b', 'job-d']) {
      await client.send(
        new CreateScheduleCommand(schedule(name, { State: name === 'job-d' ? 'DISABLED' : 'ENABLED' })),
      );
    }
    await client.send(new CreateScheduleCommand(schedule('job-z', { GroupName: 'elsewhere' })));

    const all = await client.send(new ListSchedulesCommand({}));
    expect(all.Schedules?.map((s) => `${s.GroupName}/${s.Name}`)).toEqual([
      'default/job-a',
      'default/job-b',
      'default/job-c',
      'default/job-d',
      'default/other',
      'elsewhere/job-z',
    ]);
    expect(all.NextToken).toBeUndefined();
    expect(all.Schedules?.[0]).toMatchObject({
      Arn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/job-a',
      State: 'ENABLED',
      Target: { Arn: FUNCTION_ARN },
    });
    expect(all.Schedules?.[0]?.CreationDate).toBeInstanceOf(Date);
    expect(all.Schedules?.[0]?.LastModificationDate).toBeInstanceOf(Date);

    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListSchedulesCommand({
          GroupName: 'default',
          NamePrefix: 'job-',
          MaxResults: 2,
          NextToken: token,
        }),
      );
      pages++;
      expect(page.Schedules?.length).toBeLessThanOrEqual(2);
      names.push(...(page.Schedules ?? []).map((s) => s.Name ?? ''));
      token = page.NextToken;
    } while (token !== undefined);
    expect(names).toEqual(['job-a', 'job-b', 'job-c', 'job-d']);
    expect(pages).toBe(2);

    const disabled = await client.send(new ListSchedulesCommand({ State: 'DISABLED' }));
    expect(disabled.Schedules?.map((s) => s.Name)).toEqual(['job-d']);
  });

  it('answers a duplicate with ConflictException and a missing schedule with ResourceNotFoundException', async () => {
    const { client } = await start();
    await client.send(new CreateScheduleCommand(schedule('once')));
    const conflict = client.send(new CreateScheduleCommand(schedule('once')));
    await expect(conflict).rejects.toBeInstanceOf(ConflictException);
    await expect(conflict).rejects.toMatchObject({
      name: 'ConflictException',
      $metadata: { httpStatusCode: 409 },
    });

    for (const send of [
      () => client.send(new GetScheduleCommand({ Name: 'absent' })),
      () => client.send(new DeleteScheduleCommand({ Name: 'absent' })),
      () => client.send(new UpdateScheduleCommand(schedule('absent'))),
      () => client.send(new GetScheduleCommand({ Name: 'once', GroupName: 'other' })),
    ]) {
      await expect(send()).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: expect.stringContaining('does not exist'),
        $metadata: { httpStatusCode: 404 },
      });
    }
  });

  it('rejects a bad expression, timezone or target with ValidationException', async () => {
    const { client } = await start();
    const bad = client.send(
      new CreateScheduleCommand(schedule('bad', { ScheduleExpression: 'cron(0 3 * * * *)' })),
    );
    await expect(bad).rejects.toBeInstanceOf(ValidationException);
    await expect(bad).rejects.toThrow(/cron\(0 3 \* \* \* \*\).*day-of-month and day-of-week/);
    await expect(
      client.send(new CreateScheduleCommand(schedule('bad', { ScheduleExpression: 'rate(1 hours)' }))),
    ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(
      client.send(
        new CreateScheduleCommand(schedule('bad', { ScheduleExpressionTimezone: 'Mars/Olympus_Mons' })),
      ),
    ).rejects.toThrow(/unknown timezone/);
    await expect(
      client.send(new CreateScheduleCommand(schedule('bad', { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }))),
    ).rejects.toThrow(/MaximumWindowInMinutes/);
    await expect(client.send(new CreateScheduleCommand(schedule('bad name')))).rejects.toBeInstanceOf(
      ValidationException,
    );
    await expect(client.send(new GetScheduleCommand({ Name: 'bad' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('fireNow substitutes the context attributes into the input it invokes the target with', async () => {
    const calls: Call[] = [];
    const { emulator, client } = await start(async (targetArn, input) => {
      calls.push({ targetArn, input });
    });
    const { ScheduleArn } = await client.send(
      new CreateScheduleCommand(
        schedule('nightly', {
          Target: {
            Arn: FUNCTION_ARN,
            RoleArn: ROLE_ARN,
            Input: JSON.stringify({
              at: '<aws.scheduler.scheduled-time>',
              id: '<aws.scheduler.execution-id>',
              arn: '<aws.scheduler.schedule-arn>',
              attempt: '<aws.scheduler.attempt-number>',
              again: '<aws.scheduler.scheduled-time>',
            }),
          },
        }),
      ),
    );

    const firing = await emulator.fireNow('nightly', 'default', new Date('2026-12-03T03:00:00.789Z'));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.targetArn).toBe(FUNCTION_ARN);
    const sent = JSON.parse(calls[0]?.input ?? '') as Record<string, string>;
    expect(sent).toEqual({
      at: '2026-12-03T03:00:00Z',
      id: firing.executionId,
      arn: ScheduleArn,
      attempt: '1',
      again: '2026-12-03T03:00:00Z',
    });
    expect(firing.executionId).toMatch(UUID);
    expect(firing).toMatchObject({
      name: 'nightly',
      group: 'default',
      scheduledTime: '2026-12-03T03:00:00Z',
    });
    expect(firing.error).toBeUndefined();

    const second = await emulator.fireNow('nightly');
    expect(second.scheduledTime).toMatch(ISO_SECOND);
    expect(second.executionId).not.toBe(firing.executionId);
    expect(emulator.firings()).toEqual([firing, second]);
    await expect(emulator.fireNow('absent')).rejects.toThrow(/no schedule absent/);
  });

  it("passes '{}' when the target has no Input, and deletes a fired at() schedule set to DELETE", async () => {
    const calls: Call[] = [];
    const { emulator, client } = await start(async (targetArn, input) => {
      calls.push({ targetArn, input });
    });
    await client.send(
      new CreateScheduleCommand(
        schedule('one-off', {
          ScheduleExpression: 'at(2099-01-01T00:00:00)',
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN },
        }),
      ),
    );
    await emulator.fireNow('one-off');
    expect(calls).toEqual([{ targetArn: FUNCTION_ARN, input: '{}' }]);
    await expect(client.send(new GetScheduleCommand({ Name: 'one-off' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('fires a rate(1 minute) schedule on its own when the minute has passed', async () => {
    // Only timeouts and Date are faked, and they also move with real time, so sockets and the SDK work.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
    const calls: Call[] = [];
    const { emulator, client } = await start(async (targetArn, input) => {
      calls.push({ targetArn, input });
    });
    await client.send(
      new CreateScheduleCommand(
        schedule('tick', {
          ScheduleExpression: 'rate(1 minute)',
          Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN, Input: '"<aws.scheduler.scheduled-time>"' },
        }),
      ),
    );
    await client.send(
      new CreateScheduleCommand(schedule('off', { ScheduleExpression: 'rate(1 minute)', State: 'DISABLED' })),
    );
    const created = (await client.send(new GetScheduleCommand({ Name: 'tick' }))).CreationDate as Date;

    await vi.advanceTimersByTimeAsync(30_000);
    expect(emulator.firings()).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_000);
    await vi.waitFor(() => expect(emulator.firings()).toHaveLength(1));

    const due = `${new Date(Math.floor(created.getTime() / 1000) * 1000 + 60_000).toISOString().slice(0, 19)}Z`;
    expect(emulator.firings()[0]).toMatchObject({ name: 'tick', scheduledTime: due });
    expect(calls).toEqual([{ targetArn: FUNCTION_ARN, input: `"${due}"` }]);

    await vi.advanceTimersByTimeAsync(60_000);
    await vi.waitFor(() => expect(emulator.firings()).toHaveLength(2));
    expect(emulator.firings().map((f) => f.name)).toEqual(['tick', 'tick']);
  });

  it('records a failing target in firings() and keeps serving', async () => {
    let fail = true;
    const { emulator, client } = await start(async () => {
      if (fail) throw new Error('Function not found: fanout-runtime');
    });
    await client.send(new CreateScheduleCommand(schedule('flaky')));
    const firing = await emulator.fireNow('flaky');
    expect(firing.error).toBe('Function not found: fanout-runtime');
    fail = false;
    expect((await emulator.fireNow('flaky')).error).toBeUndefined();
    expect(emulator.firings().map((f) => f.error)).toEqual(['Function not found: fanout-runtime', undefined]);
    expect((await client.send(new GetScheduleCommand({ Name: 'flaky' }))).State).toBe('ENABLED');
  });
});

describe('lambdaInvoker', () => {
  it('invokes the function named by the ARN asynchronously with the input as payload', async () => {
    const got: { method?: string; url?: string; type?: IncomingMessage['headers'][string]; body: string }[] =
      [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({
          method: req.method,
          url: req.url,
          type: req.headers['x-amz-invocation-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(202, { 'content-length': 0 }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const invoke = lambdaInvoker(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      await invoke(FUNCTION_ARN, '{"job":"nightly"}');
      expect(got).toEqual([
        {
          method: 'POST',
          url: '/2015-03-31/functions/fanout-runtime/invocations',
          type: 'Event',
          body: '{"job":"nightly"}',
        },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
