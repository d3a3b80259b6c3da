import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMr as mr } from '../helpers/run-mr.js';
import { tempDir } from '../helpers/temp.js';

const d = tempDir('logs-cloudwatch');
const work = join(d.path, 'work');
let server: Server;
let endpoint = '';
/** What the fake CloudWatch Logs was asked, request by request. */
const asked: Record<string, unknown>[] = [];

/** Events the fake holds for a filter: two pages for the whole job, one for a task. */
function answer(body: Record<string, unknown>): Record<string, unknown> {
  const pattern = String(body.filterPattern);
  const at = Date.parse('2026-12-02T10:00:00Z');
  const event = (i: number, task: string, text: string) => ({
    logStreamName: `2026/12/02/[$LATEST]env${i}`,
    timestamp: at + i * 1000,
    message: `[${jobIdOf(pattern)} ${task}] ${text}\n`,
    eventId: String(i),
  });
  if (pattern.includes('"s0-m00001"')) return { events: [event(5, 's0-m00001', 'only this one')] };
  // Out of time order across pages, as events of several streams may come.
  if (body.nextToken === undefined) return { events: [event(3, 's0-m00001', 'third')], nextToken: 'page-2' };
  return { events: [event(1, 's0-m00000', 'first'), event(2, 's0-r00000', 'second')] };
}
const jobIdOf = (pattern: string) => /^"([^"]+)"/.exec(pattern)?.[1] ?? '';

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    asked.push({ target: req.headers['x-amz-target'], ...body });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(answer(body)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  d.cleanup();
});

/** The CLI with the fake's endpoint and made-up credentials: nothing leaves 127.0.0.1. */
function mrAws(
  args: string[],
  url = endpoint,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve('bin/mr.js'), ...args], {
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A job run here whose state then says it ran on aws (function `fn-test`), as a job run there would. */
let jobs = 0;
function awsJob(): string {
  const n = jobs++;
  const input = join(d.path, `in${n}`);
  mkdirSync(input, { recursive: true });
  writeFileSync(join(input, 'a.txt'), '# first file\napple pear\n');
  const run = mr([
    ...['run', 'test/fixtures/jobs/logging-map.ts', '-i', input, '-o', join(d.path, `out${n}`)],
    ...['--work', work, '-p', '1'],
  ]);
  expect(run.code, run.stderr).toBe(0);
  const id = /^job (\S+)$/m.exec(run.stderr)?.[1] as string;
  const specFile = join(work, 'jobs', id, 'job.json');
  const spec = JSON.parse(readFileSync(specFile, 'utf8'));
  spec.options = { ...spec.options, backend: 'aws', functionName: 'fn-test' };
  writeFileSync(specFile, JSON.stringify(spec));
  return id;
}

describe('mr logs for a job run on aws', () => {
  it("reads the function's log group, filtered by job id, every page, in time order", async () => {
    const id = awsJob();
    const r = await mrAws(['logs', id, '--work', work]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `2026-12-02T10:00:01.000Z [${id} s0-m00000] first`,
        `2026-12-02T10:00:02.000Z [${id} s0-r00000] second`,
        `2026-12-02T10:00:03.000Z [${id} s0-m00001] third`,
        '',
      ].join('\n'),
    );
    const first = asked.at(-2) as Record<string, unknown>;
    expect(first).toMatchObject({
      target: 'Logs_20140328.FilterLogEvents',
      logGroupName: '/aws/lambda/fn-test',
      filterPattern: `"${id}"`,
    });
    // The job's own time, widened: no older job's lines.
    expect(first.startTime).toBeGreaterThan(Date.parse('2026-01-01'));
    expect(asked.at(-1)).toMatchObject({ nextToken: 'page-2' });

    const one = await mrAws(['logs', id, '--work', work, '--task', 's0-m00001']);
    expect(one.stdout).toBe(`2026-12-02T10:00:05.000Z [${id} s0-m00001] only this one\n`);
    expect(asked.at(-1)).toMatchObject({ filterPattern: `"${id}" "s0-m00001"` });
  });

  it('falls back to the copies in the work store when CloudWatch cannot be read, saying why in one line', async () => {
    const id = awsJob();
    const r = await mrAws(['logs', id, '--work', work], 'http://127.0.0.1:9');
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(
      /^mr: cannot read CloudWatch Logs \(.+\): the copies kept in the work store follow$/,
    );
    expect(r.stdout).toContain(`[${id} s0-m00000] header # first file {"attempt":1}`);
    const strict = await mrAws(['logs', id, '--work', work, '--source', 'cloudwatch'], 'http://127.0.0.1:9');
    expect(strict.code).toBe(2);
    expect(strict.stderr.trim()).toMatch(/^mr: cannot read CloudWatch Logs: /);
    // --source store never asks CloudWatch.
    const before = asked.length;
    const store = await mrAws(['logs', id, '--work', work, '--source', 'store']);
    expect(store.stdout).toContain('== s0-m00000 attempt 1');
    expect(asked.length).toBe(before);
  });

  it('refuses --source cloudwatch for a local job, and a bad --source, in one line', async () => {
    const input = join(d.path, 'local-in');
    mkdirSync(input, { recursive: true });
    writeFileSync(join(input, 'a.txt'), 'pear\n');
    const run = mr([
      'run',
      'test/fixtures/jobs/logging-map.ts',
      '-i',
      input,
      '-o',
      join(d.path, 'lo'),
      '--work',
      work,
    ]);
    const id = /^job (\S+)$/m.exec(run.stderr)?.[1] as string;
    const r = await mrAws(['logs', id, '--work', work, '--source', 'cloudwatch']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`mr: job ${id} ran on local: its logs are in the work store only`);
    const bad = await mrAws(['logs', id, '--work', work, '--source', 'syslog']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('mr: --source must be store or cloudwatch, got "syslog"');
  });
});
