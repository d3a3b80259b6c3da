import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root: serverless-offline resolves handlers relative to it. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The built runtime handler, as a Lambda handler string relative to ROOT. */
export const RUNTIME_HANDLER = 'dist/runtime/lambda-handler.handler';

/** One function the emulator serves. */
export interface EmulatedFunction {
  name: string;
  /** `path/to/module.export`, relative to the repository root. @default RUNTIME_HANDLER */
  handler?: string;
  /** The function's own timeout, after which the emulator answers with a function error. @default 30 */
  timeoutSeconds?: number;
}

/** A running Lambda Invoke API on loopback. */
export interface LambdaEmulator {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint`. */
  endpoint: string;
  /** Answers the next `n` invocations with 429 TooManyRequestsException, as Lambda does when throttling. */
  throttleNext(n: number): void;
  /** Invoke requests that reached the endpoint so far, throttled ones included. */
  requests(): number;
  /** Kills the emulator and removes its temporary folder; safe to call twice. */
  stop(): Promise<void>;
}

// Runs in the child, as an ES module file: with `--input-type=module -e` the flag would be inherited
// by the handler worker threads, which then fail to start. argv: [lambda module URL, log module URL, root, functions JSON, tmp].
// serverless-offline's Lambda class only needs the few fields of a Serverless instance read below.
// Its HTTP server hides its port, so a free one is picked first. Handlers run in worker threads
// with only AWS_* variables and the function's environment, like a Lambda execution environment.
const CHILD = `
import { createServer } from 'node:net';
const [lambdaUrl, logUrl, root, functionsJson, tmp] = process.argv.slice(2);
const { default: Lambda } = await import(lambdaUrl);
const { setLogUtils } = await import(logUrl);
const write = (level) => (...args) => process.stderr.write(level + ': ' + args.join(' ') + '\\n');
setLogUtils({ log: { debug() {}, info() {}, notice() {}, verbose() {}, warning: write('warning'), error: write('error') } });
const port = await new Promise((res, rej) => {
  const s = createServer().once('error', rej).listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
const serverless = {
  service: { service: 'fanout', provider: { region: 'us-east-1', runtime: 'nodejs20.x' }, package: {} },
  config: { servicePath: root, serverlessPath: root },
  serviceDir: root,
};
const lambda = new Lambda(serverless, { host: '127.0.0.1', lambdaPort: port, terminateIdleLambdaTime: 600 });
lambda.create(JSON.parse(functionsJson).map((f) => ({
  functionKey: f.name,
  functionDefinition: { name: f.name, handler: f.handler, timeout: f.timeoutSeconds, environment: { TMPDIR: tmp } },
})));
await lambda.start();
process.stdout.write(JSON.stringify({ port }) + '\\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * Starts `serverless-offline`'s Lambda Invoke API on loopback in a child process (no Serverless
 * project needed), behind a small proxy that can answer 429, which serverless-offline never does.
 * The child gets a scrubbed environment, so no real AWS settings or credentials reach handlers.
 */
export async function startLambdaEmulator(
  functions: EmulatedFunction[] = [{ name: 'fanout-runtime' }],
): Promise<LambdaEmulator> {
  if (!existsSync(join(ROOT, 'dist', 'runtime', 'lambda-handler.js'))) {
    throw new Error('dist/runtime/lambda-handler.js is missing: run `npm run build` first');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'fanout-lambda-emulator-'));
  const lambdaModule = createRequire(import.meta.url).resolve('serverless-offline/lambda');
  const logModule = join(dirname(lambdaModule), '..', 'utils', 'log.js');
  const specs = functions.map((f) => ({
    name: f.name,
    handler: f.handler ?? RUNTIME_HANDLER,
    timeoutSeconds: f.timeoutSeconds ?? 30,
  }));
  const args = [
    pathToFileURL(lambdaModule).href,
    pathToFileURL(logModule).href,
    ROOT,
    JSON.stringify(specs),
    tmp,
  ];
  const script = join(tmp, 'emulator.mjs');
  writeFileSync(script, CHILD);
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TMPDIR: tmp },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  let proxy: Server | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      proxy?.closeAllConnections();
      await new Promise<void>((res) => (proxy ? proxy.close(() => res()) : res()));
      await killChild(child);
      rmSync(tmp, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    const port = await readPort(child, () => stderr);
    let throttle = 0;
    let requests = 0;
    proxy = createServer((req, res) => {
      requests++;
      if (throttle > 0) {
        throttle--;
        answerThrottled(res);
      } else {
        forward(req, res, port);
      }
    });
    const server = proxy;
    await new Promise<void>((res, rej) => server.once('error', rej).listen(0, '127.0.0.1', () => res()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      endpoint,
      throttleNext: (n) => {
        throttle = n;
      },
      requests: () => requests,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The response Lambda gives when a function's or the account's concurrency is exhausted. */
function answerThrottled(res: ServerResponse): void {
  const body = JSON.stringify({
    Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    Type: 'User',
    message: 'Rate Exceeded.',
  });
  res.writeHead(429, {
    'content-type': 'application/json',
    'x-amzn-errortype': 'TooManyRequestsException',
    'retry-after': '1',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function forward(req: IncomingMessage, res: ServerResponse, port: number): void {
  const upstream = request(
    { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  // A client that gives up (the invoker's task timeout) must not leave the upstream call hanging.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

function readPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((res, rej) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => fail(new Error(`Lambda emulator did not start within 20 s: ${stderr()}`)),
      20_000,
    );
    const fail = (err: Error): void => {
      clearTimeout(timer);
      lines.close();
      rej(err);
    };
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === 'number') res(port);
      else rej(new Error(`Lambda emulator printed no port: ${line}`));
    });
    child.once('exit', (code) => fail(new Error(`Lambda emulator exited with ${code}: ${stderr()}`)));
    child.once('error', fail);
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
