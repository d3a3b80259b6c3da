/**
 * Invocation rate of the Lambda invoker: no-op tasks through `LambdaInvoker` (the AWS SDK's Invoke
 * over keep-alive HTTP/1.1) against a local Invoke endpoint, in a child process, that answers every
 * call at once with a Fanout reply. What it measures is the driver's own cost per invocation: payload
 * encoding, the SDK's request signing and parsing, and the reply's decoding.
 *
 * Runs the built engine (`npm run build` first), as the CLI does: tsx's loader hooks would be timed too.
 *
 *   npm run bench:invoke -- [--count 20000] [--concurrency 16,64,256] [--root DIR]
 *
 * `--root` points at another checkout's build (its `dist/`), so a baseline and a candidate can be
 * run alternately by the same bench on the same endpoint code.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as InvokerModule from '../dist/backends/lambda-invoker.js';
import type { Task } from '../dist/protocol/task-types.js';
import { gitCommit, machine } from './child-run.js';

/** The endpoint: every POST answered with a fixed reply, as fast as Node's http server goes. */
const SERVER = `
const http = require('node:http');
const reply = JSON.stringify({ ok: true, result: { kind: 'map', taskId: 't', attempt: 1, metrics: {} } });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
    res.end(reply);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

const ROOT_DIR = resolve(import.meta.dirname, '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '16,64,256' },
      root: { type: 'string', default: ROOT_DIR },
    },
  });
  const built = pathToFileURL(resolve(values.root, 'dist/backends/lambda-invoker.js')).href;
  const { createLambdaClient, LambdaInvoker } = (await import(built)) as typeof InvokerModule;
  console.log(`invoker from ${built}`);
  const count = Number(values.count);
  const levels = values.concurrency.split(',').map(Number);
  const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = (await once(server.stdout, 'data')) as [Buffer];
  const endpoint = `http://127.0.0.1:${first.toString().trim()}`;
  const levelsRun: { concurrency: number; perSecond: number; cpuUsPerCall: number; barePerSecond: number }[] =
    [];
  try {
    for (const concurrency of levels) {
      const raw = await rawRate(endpoint, concurrency, count);
      const client = createLambdaClient(concurrency, {
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      });
      const invoker = new LambdaInvoker({
        functionName: 'fanout-runtime',
        bundle: { store: 's3://bucket/', key: 'bundles/x.mjs', sha256: 'x', bytes: 1 },
        concurrency,
        client,
      });
      // A map task's shape: a few pointers, no data.
      const task = (i: number) =>
        ({
          kind: 'map',
          jobId: 'bench-invoke',
          stage: 0,
          taskId: `s0-m${String(i).padStart(5, '0')}`,
          attempt: 1,
          memoryBudget: 64 << 20,
          store: 's3://bucket/',
          partitions: 8,
          splits: [{ url: 's3://bucket/in/part-00000.txt', start: 0, end: 4096, size: 1 << 20 }],
        }) as unknown as Task;
      // Warm the connections, then time `count` invocations `concurrency` at a time.
      await Promise.all(Array.from({ length: concurrency }, (_, i) => invoker.invoke(task(i))));
      let next = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) await invoker.invoke(task(next++));
        }),
      );
      const ms = performance.now() - t0;
      // CPU time is steadier than the rate on a loaded machine: the driver's own, per invocation.
      const cpu = process.cpuUsage(cpu0);
      const cpuPerCall = (cpu.user + cpu.system) / count;
      await invoker.close();
      client.destroy();
      console.log(
        `concurrency ${String(concurrency).padStart(4)}: ${count} invocations in ${(ms / 1000).toFixed(2)} s, ` +
          `${Math.round((count * 1000) / ms).toLocaleString('en-US')}/s, driver CPU ${Math.round(cpuPerCall)} µs each; ` +
          `a bare HTTP POST loop ${Math.round(raw.rate).toLocaleString('en-US')}/s, ${Math.round(raw.cpuPerCall)} µs ` +
          `(ratio ${((count * 1000) / ms / raw.rate).toFixed(2)})`,
      );
      levelsRun.push({
        concurrency,
        perSecond: Math.round((count * 1000) / ms),
        cpuUsPerCall: Math.round(cpuPerCall),
        barePerSecond: Math.round(raw.rate),
      });
    }
  } finally {
    server.kill();
  }
  // Another checkout's build is an A/B run, not this tree's figure: nothing is recorded.
  if (values.root !== ROOT_DIR) return;
  const best = levelsRun.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const record = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: machine(),
    count,
    levels: levelsRun,
    best,
  };
  mkdirSync(join(ROOT_DIR, 'bench/results'), { recursive: true });
  appendFileSync(join(ROOT_DIR, 'bench/results/invoke-rate.jsonl'), `${JSON.stringify(record)}\n`);
  console.log('recorded in bench/results/invoke-rate.jsonl');
}

/** Baseline: the same number of POSTs of a task-sized body over keep-alive sockets, no SDK. */
async function rawRate(
  endpoint: string,
  concurrency: number,
  count: number,
): Promise<{ rate: number; cpuPerCall: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL('/2015-03-31/functions/fanout-runtime/invocations', endpoint);
  const body = Buffer.alloc(400, 'x');
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) await post();
    }),
  );
  const rate = (count * 1000) / (performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { rate, cpuPerCall: (cpu.user + cpu.system) / count };
}

await main();
