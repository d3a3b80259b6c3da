/**
 * The EventBridge emulator, driven by the real `@aws-sdk/client-eventbridge`: rule and target
 * operations with AWS's error names, event patterns as S3 rules use them, target input (Input,
 * InputPath, InputTransformer with EventBridge's quoting rules), DISABLED rules, failing targets
 * recorded, and S3 uploads of the S3 emulator reaching a Lambda function through a rule.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  InvalidEventPatternException,
  LimitExceededException,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceNotFoundException,
  type Target,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EventBridgeEmulator,
  type EventBridgeEvent,
  s3ObjectCreatedEvent,
  startEventBridgeEmulator,
} from '../../src/dev/eventbridge-emulator.js';
import { type S3ObjectCreated, startS3Emulator } from '../../src/dev/s3-emulator.js';
import { lambdaInvoker } from '../../src/dev/scheduler-emulator.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fanout-runtime';
const ISO_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** EventBridge's API does not model ValidationException: the SDK throws it by name only. */
const VALIDATION = { name: 'ValidationException', $fault: 'client' };

interface Call {
  targetArn: string;
  input: string;
}

const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

async function start(
  invoke: (targetArn: string, input: string) => Promise<void> = async () => {},
): Promise<{ eb: EventBridgeEmulator; client: EventBridgeClient }> {
  const eb = await startEventBridgeEmulator({ invoke });
  const client = new EventBridgeClient({
    endpoint: eb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'dev', secretAccessKey: 'dev' },
    maxAttempts: 1,
  });
  cleanup.push(async () => {
    client.destroy();
    await eb.stop();
  });
  return { eb, client };
}

/** An emulator whose targets record their calls. */
async function recording(): Promise<{ eb: EventBridgeEmulator; client: EventBridgeClient; calls: Call[] }> {
  const calls: Call[] = [];
  const { eb, client } = await start(async (targetArn, input) => {
    calls.push({ targetArn, input });
  });
  return { eb, client, calls };
}

function created(key: string, more: Partial<S3ObjectCreated> = {}): EventBridgeEvent {
  return s3ObjectCreatedEvent({
    bucket: 'uploads',
    key,
    size: 42,
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    sequencer: '0064D3901D00059242',
    time: '2026-03-04T05:06:07.891Z',
    reason: 'PutObject',
    ...more,
  });
}

/** A rule on S3's Object Created events whose detail matches `detail`, with one target. */
async function rule(
  client: EventBridgeClient,
  name: string,
  detail: Record<string, unknown>,
  target: Partial<Target> = {},
  state: 'ENABLED' | 'DISABLED' = 'ENABLED',
): Promise<void> {
  await client.send(
    new PutRuleCommand({
      Name: name,
      State: state,
      EventPattern: JSON.stringify({ source: ['aws.s3'], 'detail-type': ['Object Created'], detail }),
    }),
  );
  await client.send(
    new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'fn', Arn: `${FUNCTION_ARN}:${name}`, ...target }] }),
  );
}

/** The rules (by the qualifier `rule` gave their target) whose targets got each call. */
const rulesCalled = (calls: Call[]) => calls.map((c) => c.targetArn.split(':').at(-1)).sort();

describe('eventbridge emulator rules and targets', () => {
  it('creates, describes, lists and deletes rules', async () => {
    const { client } = await start();
    const pattern = JSON.stringify({ source: ['aws.s3'] });
    const put = await client.send(
      new PutRuleCommand({ Name: 'uploads-a', EventPattern: pattern, Description: 'new uploads' }),
    );
    expect(put.RuleArn).toBe('arn:aws:events:us-east-1:000000000000:rule/uploads-a');
    const got = await client.send(new DescribeRuleCommand({ Name: 'uploads-a' }));
    expect(got).toMatchObject({
      Name: 'uploads-a',
      Arn: put.RuleArn,
      EventPattern: pattern,
      State: 'ENABLED',
      Description: 'new uploads',
      EventBusName: 'default',
    });

    for (const name of ['uploads-c', 'uploads-b', 'other']) {
      await client.send(new PutRuleCommand({ Name: name, EventPattern: pattern, State: 'DISABLED' }));
    }
    const first = await client.send(new ListRulesCommand({ NamePrefix: 'uploads-', Limit: 2 }));
    expect(first.Rules?.map((r) => r.Name)).toEqual(['uploads-a', 'uploads-b']);
    expect(first.NextToken).toBeDefined();
    const second = await client.send(
      new ListRulesCommand({ NamePrefix: 'uploads-', Limit: 2, NextToken: first.NextToken }),
    );
    expect(second.Rules?.map((r) => [r.Name, r.State])).toEqual([['uploads-c', 'DISABLED']]);
    expect(second.NextToken).toBeUndefined();

    // PutRule replaces a rule (its targets stay).
    await client.send(new PutTargetsCommand({ Rule: 'other', Targets: [{ Id: 't', Arn: FUNCTION_ARN }] }));
    await client.send(new PutRuleCommand({ Name: 'other', EventPattern: JSON.stringify({ source: ['x'] }) }));
    const replaced = await client.send(new DescribeRuleCommand({ Name: 'other' }));
    expect(replaced.State).toBe('ENABLED');
    expect(replaced.Description).toBeUndefined();
    expect((await client.send(new ListTargetsByRuleCommand({ Rule: 'other' }))).Targets).toHaveLength(1);

    await client.send(new DeleteRuleCommand({ Name: 'uploads-a' }));
    await expect(client.send(new DescribeRuleCommand({ Name: 'uploads-a' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    // As on AWS, deleting a rule that does not exist succeeds.
    await client.send(new DeleteRuleCommand({ Name: 'uploads-a' }));
  });

  it('puts, lists and removes targets, and refuses to delete a rule that has some', async () => {
    const { client } = await start();
    await client.send(
      new PutRuleCommand({ Name: 'r', EventPattern: JSON.stringify({ source: ['aws.s3'] }) }),
    );
    const targets: Target[] = [
      { Id: 'plain', Arn: FUNCTION_ARN },
      { Id: 'constant', Arn: FUNCTION_ARN, Input: '{"job":"ingest"}' },
      { Id: 'path', Arn: FUNCTION_ARN, InputPath: '$.detail.object' },
      {
        Id: 'shaped',
        Arn: FUNCTION_ARN,
        InputTransformer: { InputPathsMap: { key: '$.detail.object.key' }, InputTemplate: '{"key": <key>}' },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    ];
    const put = await client.send(new PutTargetsCommand({ Rule: 'r', Targets: targets }));
    expect(put).toMatchObject({ FailedEntryCount: 0, FailedEntries: [] });
    const listed = await client.send(new ListTargetsByRuleCommand({ Rule: 'r' }));
    expect(listed.Targets?.sort((a, b) => (a.Id ?? '').localeCompare(b.Id ?? ''))).toEqual(
      [...targets].sort((a, b) => (a.Id ?? '').localeCompare(b.Id ?? '')),
    );

    // Putting a target with an Id that exists replaces it.
    await client.send(
      new PutTargetsCommand({ Rule: 'r', Targets: [{ Id: 'plain', Arn: `${FUNCTION_ARN}:live` }] }),
    );
    const page = await client.send(new ListTargetsByRuleCommand({ Rule: 'r', Limit: 2 }));
    expect(page.Targets?.map((t) => t.Id)).toEqual(['constant', 'path']);
    const rest = await client.send(
      new ListTargetsByRuleCommand({ Rule: 'r', Limit: 2, NextToken: page.NextToken }),
    );
    expect(rest.Targets?.map((t) => [t.Id, t.Arn])).toEqual([
      ['plain', `${FUNCTION_ARN}:live`],
      ['shaped', FUNCTION_ARN],
    ]);

    await expect(client.send(new DeleteRuleCommand({ Name: 'r' }))).rejects.toMatchObject(VALIDATION);
    await expect(client.send(new DeleteRuleCommand({ Name: 'r' }))).rejects.toThrow(
      "Rule can't be deleted since it has targets.",
    );
    const removed = await client.send(
      new RemoveTargetsCommand({ Rule: 'r', Ids: ['plain', 'constant', 'path', 'shaped'] }),
    );
    expect(removed.FailedEntryCount).toBe(0);
    expect((await client.send(new ListTargetsByRuleCommand({ Rule: 'r' }))).Targets).toEqual([]);
    await client.send(new DeleteRuleCommand({ Name: 'r' }));
  });

  it('answers errors by name', async () => {
    const { client } = await start();
    const bad = (EventPattern: string) => client.send(new PutRuleCommand({ Name: 'bad', EventPattern }));
    await expect(bad('{not json')).rejects.toBeInstanceOf(InvalidEventPatternException);
    await expect(bad(JSON.stringify({ source: 'aws.s3' }))).rejects.toBeInstanceOf(
      InvalidEventPatternException,
    );
    await expect(bad('[]')).rejects.toBeInstanceOf(InvalidEventPatternException);
    await expect(bad('{}')).rejects.toBeInstanceOf(InvalidEventPatternException);
    await expect(bad(JSON.stringify({ detail: { key: [{ wildcard: 'a**b' }] } }))).rejects.toBeInstanceOf(
      InvalidEventPatternException,
    );
    await expect(bad(JSON.stringify({ detail: { key: [{ sometimes: 'x' }] } }))).rejects.toThrow(
      /Event pattern is not valid/,
    );
    await expect(
      client.send(new PutRuleCommand({ Name: 'bad name!', EventPattern: '{"a":["b"]}' })),
    ).rejects.toMatchObject(VALIDATION);
    await expect(client.send(new PutRuleCommand({ Name: 'none' }))).rejects.toMatchObject(VALIDATION);
    await expect(
      client.send(new PutRuleCommand({ Name: 'bus', EventPattern: '{"a":["b"]}', EventBusName: 'custom' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);

    await expect(
      client.send(new PutTargetsCommand({ Rule: 'nowhere', Targets: [{ Id: 'x', Arn: FUNCTION_ARN }] })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new ListTargetsByRuleCommand({ Rule: 'nowhere' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      client.send(new RemoveTargetsCommand({ Rule: 'nowhere', Ids: ['x'] })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);

    await client.send(new PutRuleCommand({ Name: 'r', EventPattern: '{"a":["b"]}' }));
    await expect(
      client.send(
        new PutTargetsCommand({
          Rule: 'r',
          Targets: [{ Id: 'x', Arn: FUNCTION_ARN, Input: '{}', InputPath: '$.detail' }],
        }),
      ),
    ).rejects.toMatchObject(VALIDATION);
    await expect(
      client.send(
        new PutTargetsCommand({ Rule: 'r', Targets: [{ Id: 'x', Arn: FUNCTION_ARN, Input: 'not json' }] }),
      ),
    ).rejects.toMatchObject(VALIDATION);
    const six = Array.from({ length: 6 }, (_, i) => ({ Id: `t${i}`, Arn: FUNCTION_ARN }));
    await expect(client.send(new PutTargetsCommand({ Rule: 'r', Targets: six }))).rejects.toBeInstanceOf(
      LimitExceededException,
    );
  });
});

describe('eventbridge emulator event patterns', () => {
  it('builds the event S3 sends for a created object', () => {
    const e = created('in/a b.csv', { reason: 'CompleteMultipartUpload' });
    expect(e).toEqual({
      version: '0',
      id: expect.stringMatching(UUID),
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      time: '2026-03-04T05:06:07Z',
      region: 'us-east-1',
      resources: ['arn:aws:s3:::uploads'],
      detail: {
        version: '0',
        bucket: { name: 'uploads' },
        object: {
          key: 'in/a b.csv',
          size: 42,
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          sequencer: '0064D3901D00059242',
        },
        'request-id': expect.stringMatching(/^[A-Z0-9]{16}$/),
        requester: '000000000000',
        'source-ip-address': '127.0.0.1',
        reason: 'CompleteMultipartUpload',
      },
    });
    expect(e.time).toMatch(ISO_SECOND);
    expect(created('x').id).not.toBe(e.id);
  });

  it('matches prefix, suffix, wildcard, exact, anything-but, exists and numeric filters', async () => {
    const { eb, client, calls } = await recording();
    await rule(client, 'prefix', { object: { key: [{ prefix: 'in/' }] } });
    await rule(client, 'suffix', { object: { key: [{ suffix: '.csv' }] } });
    await rule(client, 'wildcard', { object: { key: [{ wildcard: 'in/*.csv' }] } });
    await rule(client, 'bucket', { bucket: { name: ['uploads'] } });
    await rule(client, 'otherbucket', { bucket: { name: ['elsewhere', 'nowhere'] } });
    await rule(client, 'notcopy', { reason: [{ 'anything-but': ['CopyObject', 'POST Object'] }] });
    await rule(client, 'notlogs', { object: { key: [{ 'anything-but': { prefix: 'logs/' } }] } });
    await rule(client, 'hasetag', { object: { etag: [{ exists: true }] } });
    await rule(client, 'noversion', { object: { 'version-id': [{ exists: false }] } });
    await rule(client, 'big', { object: { size: [{ numeric: ['>=', 100] }] } });
    await rule(client, 'or', {
      $or: [{ object: { key: [{ prefix: 'logs/' }] } }, { reason: ['CopyObject'] }],
    });
    await client.send(
      new PutRuleCommand({ Name: 'ec2', EventPattern: JSON.stringify({ source: ['aws.ec2'] }) }),
    );
    await client.send(
      new PutTargetsCommand({ Rule: 'ec2', Targets: [{ Id: 'x', Arn: `${FUNCTION_ARN}:ec2` }] }),
    );

    const cases: [EventBridgeEvent, string[]][] = [
      [
        created('in/2026/a.csv'),
        ['bucket', 'hasetag', 'noversion', 'notcopy', 'notlogs', 'prefix', 'suffix', 'wildcard'],
      ],
      [created('in/a.json'), ['bucket', 'hasetag', 'noversion', 'notcopy', 'notlogs', 'prefix']],
      [created('out/in/a.csv'), ['bucket', 'hasetag', 'noversion', 'notcopy', 'notlogs', 'suffix']],
      [
        created('logs/x.csv', { reason: 'CopyObject', etag: undefined, size: 100 }),
        ['big', 'bucket', 'noversion', 'or', 'suffix'],
      ],
      [
        created('in/a.csv', { bucket: 'elsewhere' }),
        ['hasetag', 'noversion', 'notcopy', 'notlogs', 'otherbucket', 'prefix', 'suffix', 'wildcard'],
      ],
    ];
    for (const [event, expected] of cases) {
      calls.length = 0;
      await eb.deliver(event);
      expect(rulesCalled(calls), JSON.stringify(event.detail)).toEqual([...expected].sort());
    }
  });

  it('answers TestEventPattern with the same matching', async () => {
    const { client } = await start();
    const test = async (pattern: unknown, key: string) =>
      (
        await client.send(
          new TestEventPatternCommand({
            EventPattern: JSON.stringify(pattern),
            Event: JSON.stringify(created(key)),
          }),
        )
      ).Result;
    expect(await test({ detail: { object: { key: [{ wildcard: 'in/*/*.csv' }] } } }, 'in/2026/a.csv')).toBe(
      true,
    );
    expect(await test({ detail: { object: { key: [{ wildcard: 'in/*/*.csv' }] } } }, 'in/a.csv')).toBe(false);
    expect(await test({ detail: { object: { key: [{ wildcard: 'a\\*b' }] } } }, 'a*b')).toBe(true);
    expect(await test({ detail: { object: { key: [{ wildcard: 'a\\*b' }] } } }, 'axb')).toBe(false);
    expect(
      await test({ detail: { object: { key: [{ prefix: { 'equals-ignore-case': 'IN/' } }] } } }, 'in/x'),
    ).toBe(true);
    expect(await test({ resources: ['arn:aws:s3:::uploads'] }, 'x')).toBe(true);
    expect(await test({ detail: { object: { size: [42] } } }, 'x')).toBe(true);
    expect(await test({ detail: { object: { size: ['42'] } } }, 'x')).toBe(false);
  });
});

describe('eventbridge emulator target input', () => {
  it('passes the whole event, a constant Input, or what InputPath selects', async () => {
    const { eb, client, calls } = await recording();
    await client.send(
      new PutRuleCommand({ Name: 'r', EventPattern: JSON.stringify({ source: ['aws.s3'] }) }),
    );
    await client.send(
      new PutTargetsCommand({
        Rule: 'r',
        Targets: [
          { Id: 'a-whole', Arn: `${FUNCTION_ARN}:whole` },
          { Id: 'b-constant', Arn: `${FUNCTION_ARN}:constant`, Input: '{"job":"ingest"}' },
          { Id: 'c-path', Arn: `${FUNCTION_ARN}:path`, InputPath: '$.detail.object' },
          { Id: 'd-key', Arn: `${FUNCTION_ARN}:key`, InputPath: '$.detail.object.key' },
          { Id: 'e-resource', Arn: `${FUNCTION_ARN}:resource`, InputPath: '$.resources[0]' },
        ],
      }),
    );
    const event = created('in/a.csv');
    await eb.deliver(event);
    const by = Object.fromEntries(calls.map((c) => [c.targetArn.split(':').at(-1), c.input]));
    expect(JSON.parse(by.whole ?? '')).toEqual(event);
    expect(by.constant).toBe('{"job":"ingest"}');
    expect(JSON.parse(by.path ?? '')).toEqual(event.detail.object);
    expect(by.key).toBe('"in/a.csv"');
    expect(by.resource).toBe('"arn:aws:s3:::uploads"');
    expect(
      eb
        .deliveries()
        .map((d) => d.targetId)
        .sort(),
    ).toEqual(['a-whole', 'b-constant', 'c-path', 'd-key', 'e-resource']);
  });

  it('fills an InputTemplate: JSON outside quotes, escaped text inside them', async () => {
    const { eb, client, calls } = await recording();
    const template =
      '{"bucket": <bucket>, "key": <key>, "size": <size>, "object": <object>, ' +
      '"line": "got <key> (<size> bytes) from <bucket>", "flat": "<object>", ' +
      '"rule": "<aws.events.rule-name>", "arn": <aws.events.rule-arn>, "at": "<aws.events.event.ingestion-time>", ' +
      '"event": <aws.events.event>, "missing": <nothing>, "missingText": "[<nothing>]", "literal": "<unknown>"}';
    await rule(
      client,
      'shaped',
      { object: { key: [{ prefix: 'in/' }] } },
      {
        InputTransformer: {
          InputPathsMap: {
            bucket: '$.detail.bucket.name',
            key: '$.detail.object.key',
            size: '$.detail.object.size',
            object: '$.detail.object',
            nothing: '$.detail.object.version-id',
          },
          InputTemplate: template,
        },
      },
    );
    const key = 'in/say "hi" \\ back\\slash\ttab ü.csv';
    const event = created(key);
    await eb.deliver(event);
    expect(calls).toHaveLength(1);
    const input = JSON.parse(calls[0]?.input ?? '');
    const { detail: _detail, ...withoutDetail } = event;
    expect(input).toEqual({
      bucket: 'uploads',
      key,
      size: 42,
      object: event.detail.object,
      line: `got ${key} (42 bytes) from uploads`,
      // An object inside quotes loses its own quotes, as on AWS.
      flat: JSON.stringify(event.detail.object).replaceAll('"', ''),
      rule: 'shaped',
      arn: 'arn:aws:events:us-east-1:000000000000:rule/shaped',
      at: expect.stringMatching(ISO_SECOND),
      event: withoutDetail,
      missing: null,
      missingText: '[]',
      literal: '<unknown>',
    });
  });

  it('fills a plain-text template as EventBridge does', async () => {
    const { eb, client, calls } = await recording();
    await client.send(
      new PutRuleCommand({ Name: 'text', EventPattern: JSON.stringify({ source: ['aws.s3'] }) }),
    );
    await client.send(
      new PutTargetsCommand({
        Rule: 'text',
        Targets: [
          {
            Id: 'fn',
            Arn: FUNCTION_ARN,
            InputTransformer: {
              InputPathsMap: { key: '$.detail.object.key', size: '$.detail.object.size' },
              InputTemplate: '<key> is <size> bytes, "<key>" quoted',
            },
          },
        ],
      }),
    );
    await eb.deliver(created('a "b".csv'));
    expect(calls.map((c) => c.input)).toEqual(['"a \\"b\\".csv" is 42 bytes, "a \\"b\\".csv" quoted']);
  });
});

describe('eventbridge emulator delivery', () => {
  it('delivers nothing for a DISABLED rule, until it is enabled', async () => {
    const { eb, client, calls } = await recording();
    await rule(client, 'off', { bucket: { name: ['uploads'] } }, {}, 'DISABLED');
    await eb.deliver(created('a'));
    expect(calls).toEqual([]);
    expect(eb.deliveries()).toEqual([]);
    await client.send(new EnableRuleCommand({ Name: 'off' }));
    await eb.deliver(created('b'));
    expect(rulesCalled(calls)).toEqual(['off']);
    await client.send(new DisableRuleCommand({ Name: 'off' }));
    await eb.deliver(created('c'));
    expect(calls).toHaveLength(1);
  });

  it('records a failing target without throwing, and still delivers to the others', async () => {
    const calls: Call[] = [];
    const { eb, client } = await start(async (targetArn, input) => {
      if (targetArn.endsWith(':broken')) throw new Error('function exploded');
      calls.push({ targetArn, input });
    });
    await client.send(
      new PutRuleCommand({ Name: 'r', EventPattern: JSON.stringify({ source: ['aws.s3'] }) }),
    );
    await client.send(
      new PutTargetsCommand({
        Rule: 'r',
        Targets: [
          { Id: 'broken', Arn: `${FUNCTION_ARN}:broken` },
          { Id: 'fine', Arn: `${FUNCTION_ARN}:fine` },
          { Id: 'nopath', Arn: `${FUNCTION_ARN}:nopath`, InputPath: '$.detail.nothing.here' },
        ],
      }),
    );
    await expect(eb.deliver(created('a'))).resolves.toBeUndefined();
    const byId = Object.fromEntries(eb.deliveries().map((d) => [d.targetId, d]));
    expect(byId.broken).toMatchObject({
      rule: 'r',
      targetArn: `${FUNCTION_ARN}:broken`,
      error: 'function exploded',
    });
    expect(byId.fine?.error).toBeUndefined();
    expect(byId.nopath?.error).toMatch(/InputPath/);
    expect(rulesCalled(calls)).toEqual(['fine']);
  });

  it('takes S3 uploads of the S3 emulator to a Lambda function through a rule', async () => {
    const got: { url?: string; type?: IncomingMessage['headers'][string]; body: string }[] = [];
    const fakeLambda = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({
          url: req.url,
          type: req.headers['x-amz-invocation-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(202, { 'content-length': 0 }).end();
      });
    });
    await new Promise<void>((r) => fakeLambda.listen(0, '127.0.0.1', r));
    cleanup.push(async () => {
      fakeLambda.closeAllConnections();
      await new Promise((r) => fakeLambda.close(r));
    });
    const { eb, client } = await start(
      lambdaInvoker(`http://127.0.0.1:${(fakeLambda.address() as AddressInfo).port}`),
    );
    const s3 = await startS3Emulator({ buckets: ['uploads'] });
    const s3client = s3.client();
    cleanup.push(async () => {
      s3client.destroy();
      await s3.stop();
    });
    s3.onObjectCreated((e) => void eb.deliver(s3ObjectCreatedEvent(e, 'us-east-1')));
    await s3client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'uploads',
        NotificationConfiguration: { EventBridgeConfiguration: {} },
      }),
    );
    await rule(
      client,
      'csv',
      { bucket: { name: ['uploads'] }, object: { key: [{ wildcard: 'in/*.csv' }] } },
      {
        Arn: FUNCTION_ARN,
      },
    );

    await s3client.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'in/day 1.csv', Body: 'a,b\n' }));
    await s3client.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'in/day 1.json', Body: '{}' }));
    await s3client.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'in/day 2.csv', Body: 'a,b\n1,2\n' }));
    const deadline = Date.now() + 5_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));

    expect(got.map((g) => [g.url, g.type])).toEqual([
      ['/2015-03-31/functions/fanout-runtime/invocations', 'Event'],
      ['/2015-03-31/functions/fanout-runtime/invocations', 'Event'],
    ]);
    const events = got.map((g) => JSON.parse(g.body) as EventBridgeEvent);
    expect(
      events.map((e) => e.detail.object).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toMatchObject([
      { key: 'in/day 1.csv', size: 4 },
      { key: 'in/day 2.csv', size: 8 },
    ]);
    expect(events[0]).toMatchObject({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { reason: 'PutObject' },
    });
    expect(eb.deliveries().every((d) => d.error === undefined)).toBe(true);
  });
});
