/**
 * `notify`: a run's notice reaches a webhook on 127.0.0.1 and an SNS topic on the emulator (fauxqs,
 * read back through an SQS queue subscribed to it), on success, on failure and on cancel; a target
 * that cannot be reached is a warning, never the run's failure.
 */
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SqsEmulator, startSqsEmulator } from '../../src/dev/sqs-emulator.js';
import {
  JobCancelledError,
  type JobNotice,
  resumeJob,
  runJob,
  TaskFailedError,
  UsageError,
} from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const wordcount = resolve('jobs/wordcount.ts');
const fixture = (name: string) => resolve('test/fixtures/jobs', `${name}.ts`);

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: JobNotice;
}

/** A webhook on 127.0.0.1 that answers each POST with the next status given (then 204). */
async function webhook(statuses: number[] = []): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as JobNotice,
      });
      res.writeHead(statuses.shift() ?? 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

describe('notify', () => {
  const setup = tempDirs('notify');
  const servers: Server[] = [];
  const hook = async (statuses?: number[]) => {
    const h = await webhook(statuses);
    servers.push(h.server);
    return h;
  };
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it('POSTs the summary of a run that succeeded to a webhook', async () => {
    const d = setup();
    const text = wordText(400, 60, 3);
    d.file('in/a.txt', text);
    const h = await hook();
    const warnings: string[] = [];
    const result = await runJob(wordcount, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      notify: `${h.url}/hooks/fanout`,
      onProgress: (e) => {
        if (e.type === 'warning') warnings.push(e.message);
      },
    });
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords(text));
    expect(warnings).toEqual([]);
    expect(h.got).toHaveLength(1);
    const [{ path, headers, body }] = h.got as [Received];
    expect(path).toBe('/hooks/fanout');
    expect(headers['content-type']).toBe('application/json');
    expect(body).toMatchObject({
      source: 'fanout',
      event: 'job-succeeded',
      jobId: result.jobId,
      name: 'wordcount',
      output: result.output,
      parts: result.parts.length,
      report: result.report,
    });
    expect(body.event === 'job-succeeded' && body.counters.outputRecords).toBe(countWords(text).size);
    expect(Date.parse(body.at)).toBeGreaterThan(0);
  });

  it('sends the error and the task at fault when a task exhausts its attempts', async () => {
    const d = setup();
    d.file('in/a.txt', 'fine\nthis is poison\nfine too\n');
    const h = await hook();
    let jobId = '';
    const err = await runJob(fixture('always-throws'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      maxAttempts: 2,
      retryBaseMs: 1,
      notify: [h.url],
      onProgress: (e) => {
        if (e.type === 'job-start') jobId = e.jobId;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(h.got).toHaveLength(1);
    const notice = h.got[0]?.body;
    expect(notice).toMatchObject({
      event: 'job-failed',
      jobId,
      name: 'always-throws',
      output: join(d.path, 'out'),
      error: { name: 'TaskFailedError', message: (err as Error).message },
      task: { attempt: 2 },
      report: (err as TaskFailedError).report,
    });
    expect((err as Error).message).toContain('cannot handle "this is poison"');
    expect(notice?.event === 'job-failed' && notice.task?.id).toMatch(/^s0-m\d+$/);
    expect(notice?.event === 'job-failed' && notice.task?.input).toContain('a.txt');
  });

  it('notifies of a run that failed before it began: an input that is not there', async () => {
    const d = setup();
    const h = await hook();
    const err = await runJob(wordcount, {
      input: [join(d.path, 'missing')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      notify: [h.url],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(h.got.map((g) => g.body)).toMatchObject([
      {
        event: 'job-failed',
        name: 'wordcount',
        error: { name: 'UsageError', message: (err as Error).message },
      },
    ]);
  });

  it('says a cancelled run was cancelled', async () => {
    const d = setup();
    d.file('in/a.txt', Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n'));
    const h = await hook();
    const cancel = new AbortController();
    const err = await runJob(fixture('slow-map'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      notify: [h.url],
      signal: cancel.signal,
      onProgress: (e) => {
        if (e.type === 'task-start') cancel.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    expect(h.got.map((g) => g.body.event)).toEqual(['job-cancelled']);
  });

  it('notifies the same targets again when a failed job is resumed', async () => {
    const d = setup();
    const flag = d.file('flag', '');
    const text = `a b\nflag ${flag}\nb c\n`;
    d.file('in/a.txt', text);
    const h = await hook();
    const options = {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      maxAttempts: 1,
      notify: [h.url],
    };
    const err = await runJob(fixture('fail-while-flagged'), options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    rmSync(flag);
    const jobId = h.got[0]?.body.jobId as string;
    const outcome = await resumeJob(jobId, { workDir: options.workDir });
    expect(outcome.resumed).toBe(true);
    expect(h.got.map((g) => [g.body.event, g.body.jobId])).toEqual([
      ['job-failed', jobId],
      ['job-succeeded', jobId],
    ]);
    expect(await readOutput(options.output)).toEqual(countWords(text));
  });

  it('warns when a webhook cannot take the notice, after retrying, and the run still succeeds', async () => {
    const d = setup();
    d.file('in/a.txt', 'a b a\n');
    const failing = await hook([500, 503, 502]);
    const refusing = await hook([404]);
    const warnings: string[] = [];
    const result = await runJob(wordcount, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      notify: [`${failing.url}/a?token=secret`, `${refusing.url}/b`, 'http://127.0.0.1:9/closed'],
      onProgress: (e) => {
        if (e.type === 'warning') warnings.push(e.message);
      },
    });
    expect(result.counters.outputRecords).toBe(2);
    // 5xx is tried three times, a 404 once.
    expect(failing.got).toHaveLength(3);
    expect(refusing.got).toHaveLength(1);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe(`could not notify ${failing.url}/a: HTTP 502 after 3 attempts`);
    expect(warnings[1]).toBe(`could not notify ${refusing.url}/b: HTTP 404`);
    expect(warnings[2]).toMatch(/^could not notify http:\/\/127\.0\.0\.1:9\/closed: .*after 3 attempts$/);
    expect(warnings.join('\n')).not.toContain('secret');
  });

  it('refuses a target it cannot send to, before the run starts', async () => {
    const d = setup();
    for (const [target, why] of [
      ['http://example.com/hook', 'a webhook must use https (plain http only to 127.0.0.1 or localhost)'],
      ['sns:my-topic', 'not an SNS topic ARN'],
      ['ftp://127.0.0.1/x', 'expected sns:<topic-arn> or an https:// webhook URL'],
      ['hooks.example.com', 'expected sns:<topic-arn> or an https:// webhook URL'],
    ] as const) {
      const err = await runJob(wordcount, {
        input: [d.path],
        workDir: join(d.path, 'work'),
        notify: target,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain(`notify target ${JSON.stringify(target)}: ${why}`);
    }
  });

  describe('to an SNS topic (fauxqs)', () => {
    let emu: SqsEmulator;
    let sqs: SQSClient;
    let sns: SNSClient;
    // What the run's own SNS client reads: the emulator's endpoint, and credentials it accepts.
    const env = ['AWS_ENDPOINT_URL_SNS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
    const saved = env.map((k) => process.env[k]);
    beforeAll(async () => {
      emu = await startSqsEmulator();
      const config = {
        endpoint: emu.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      };
      sqs = new SQSClient(config);
      sns = new SNSClient(config);
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_SNS: emu.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
    });
    afterAll(async () => {
      for (const [i, k] of env.entries()) {
        if (saved[i] === undefined) delete process.env[k];
        else process.env[k] = saved[i];
      }
      sqs.destroy();
      sns.destroy();
      await emu.stop();
    });

    it('publishes the notice, with a subject, to the topic', async () => {
      const topic = await sns.send(new CreateTopicCommand({ Name: 'fanout-jobs' }));
      const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'fanout-jobs-inbox' }));
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      await sns.send(
        new SubscribeCommand({
          TopicArn: topic.TopicArn,
          Protocol: 'sqs',
          Endpoint: attrs.Attributes?.QueueArn,
        }),
      );
      const d = setup();
      const text = wordText(100, 20, 9);
      d.file('in/a.txt', text);
      const warnings: string[] = [];
      const result = await runJob(wordcount, {
        input: [join(d.path, 'in')],
        output: join(d.path, 'out'),
        workDir: join(d.path, 'work'),
        notify: [`sns:${topic.TopicArn}`],
        onProgress: (e) => {
          if (e.type === 'warning') warnings.push(e.message);
        },
      });
      expect(warnings).toEqual([]);
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
      );
      expect(got.Messages).toHaveLength(1);
      const envelope = JSON.parse(got.Messages?.[0]?.Body ?? '{}') as { Subject?: string; Message: string };
      expect(envelope.Subject).toBe('Fanout job wordcount succeeded');
      expect(JSON.parse(envelope.Message)).toMatchObject({
        event: 'job-succeeded',
        jobId: result.jobId,
        counters: { outputRecords: countWords(text).size },
      });
    });

    it('warns when the topic is not there, and the run still succeeds', async () => {
      const d = setup();
      d.file('in/a.txt', 'x y\n');
      const warnings: string[] = [];
      const arn = 'arn:aws:sns:us-east-1:000000000000:no-such-topic';
      const result = await runJob(wordcount, {
        input: [join(d.path, 'in')],
        output: join(d.path, 'out'),
        workDir: join(d.path, 'work'),
        notify: [`sns:${arn}`],
        onProgress: (e) => {
          if (e.type === 'warning') warnings.push(e.message);
        },
      });
      expect(result.counters.outputRecords).toBe(2);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(new RegExp(`^could not notify sns:${arn}: .*(not exist|not found)`, 'i'));
    });
  });
});
