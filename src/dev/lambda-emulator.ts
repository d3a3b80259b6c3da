import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveDevModule } from './dev-packages.js';
import { freeLoopbackPort, readReadyPort, runOnce, spawnEmulatorChild } from './emulator-child.js';
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js';

/** The package root (src/dev/.. or dist/dev/..): serverless-offline resolves handlers relative to it. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The built runtime handler, as a Lambda handler string relative to the package root. */
export const RUNTIME_HANDLER = 'dist/infra/function-handler.handler';

/** One function the emulator serves. */
export interface EmulatedFunction {
  name: string;
  /** `path/to/module.export`, relative to the package root. @default RUNTIME_HANDLER */
  handler?: string;
  /** The function's own timeout, after which the emulator answers with a function error. @default 30 */
  timeoutSeconds?: number;
  /** Environment variables of this function, on top of the emulator's `environment`. */
  environment?: Readonly<Record<string, string>>;
}

/** How to start the Lambda emulator. */
export interface LambdaEmulatorOptions {
  /** @default one function, `fanout-runtime`, serving RUNTIME_HANDLER */
  functions?: readonly EmulatedFunction[];
  /** Port of the Invoke API on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Environment variables every function sees, such as the S3 endpoint and credentials it uses. */
  environment?: Readonly<Record<string, string>>;
}

/** A running Lambda Invoke API on loopback. */
export interface LambdaEmulator {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint`. */
  endpoint: string;
  /** Answers the next `n` invocations with 429 TooManyRequestsException, as Lambda does when throttling. */
  throttleNext(n: number): void;
  /** Answers every `n`-th invocation with 429 from now on (0 stops). */
  throttleEvery(n: number): void;
  /** Invocations answered with 429 so far. */
  throttled(): number;
  /** Invoke requests that reached the endpoint so far, throttled ones included. */
  requests(): number;
  /** Settles when the emulator's child process exits, stopped or not. */
  exited: Promise<void>;
  /** Kills the emulator and removes its temporary folder; safe to call twice. */
  stop(): Promise<void>;
}

// Runs in the child, as an ES module file: with `--input-type=module -e` the flag would be inherited
// by the handler worker threads, which then fail to start. argv: [lambda module URL, log module URL,
// errors module URL, root, functions JSON, port]. serverless-offline's Lambda class only needs the
// few fields of a Serverless instance read below. Handlers run in worker threads that see only AWS_*
// variables of this (scrubbed) process plus each function's environment, like a Lambda execution
// environment.
//
// serverless-offline never notices a handler thread that exits (process.exit, a crash): the
// invocation would wait out the function's timeout, and the next one on that instance would go to
// the dead thread and wait again. Lambda answers at once (Runtime.ExitError) and starts a fresh
// environment, and so does this: worker_threads is wrapped before serverless-offline loads it, so
// an exited thread answers its invocations with an error serverless-offline takes for a timeout,
// which makes it start a new thread for the next one.
const CHILD = `
import { createRequire, syncBuiltinESMExports } from 'node:module';
const [lambdaUrl, logUrl, errorsUrl, root, functionsJson, port] = process.argv.slice(2);
const { LambdaTimeoutError } = await import(errorsUrl);
const threads = createRequire(import.meta.url)('node:worker_threads');
const replyPortOf = new WeakMap();
const exited = (reply, code) =>
  reply.emit('message', new LambdaTimeoutError('Runtime exited with error: exit status ' + code));
threads.MessageChannel = class MessageChannel extends threads.MessageChannel {
  constructor() {
    super();
    replyPortOf.set(this.port2, this.port1);
  }
};
threads.Worker = class Worker extends threads.Worker {
  #waiting = new Set();
  #exitCode;
  constructor(...args) {
    super(...args);
    this.on('exit', (code) => {
      this.#exitCode = code;
      for (const reply of this.#waiting) exited(reply, code);
      this.#waiting.clear();
    });
  }
  postMessage(value, transfer) {
    const reply = value && replyPortOf.get(value.port);
    if (reply === undefined) return super.postMessage(value, transfer);
    if (this.#exitCode !== undefined) return exited(reply, this.#exitCode);
    this.#waiting.add(reply);
    reply.once('message', () => this.#waiting.delete(reply));
    return super.postMessage(value, transfer);
  }
};
syncBuiltinESMExports();
const { default: Lambda } = await import(lambdaUrl);
const { setLogUtils } = await import(logUrl);
const write = (level) => (...args) => process.stderr.write(level + ': ' + args.join(' ') + '\\n');
setLogUtils({ log: { debug() {}, info() {}, notice() {}, verbose() {}, warning: write('warning'), error: write('error') } });
const serverless = {
  service: { service: 'fanout', provider: { region: 'us-east-1', runtime: 'nodejs20.x' }, package: {} },
  config: { servicePath: root, serverlessPath: root },
  serviceDir: root,
};
const lambda = new Lambda(serverless, { host: '127.0.0.1', lambdaPort: Number(port), terminateIdleLambdaTime: 600 });
lambda.create(JSON.parse(functionsJson).map((f) => ({
  functionKey: f.name,
  functionDefinition: { name: f.name, handler: f.handler, timeout: f.timeoutSeconds, environment: f.environment },
})));
await lambda.start();
process.stdout.write(JSON.stringify({ port: Number(port) }) + '\\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * Starts `serverless-offline`'s Lambda Invoke API on loopback in a child process (no Serverless
 * project needed), behind a small proxy that can answer 429, which serverless-offline never does.
 * The child's environment holds only PATH and TMPDIR, because serverless-offline copies every
 * AWS_* variable it has into handlers: handlers see exactly the `environment` given here.
 * @throws {UsageError} when serverless-offline is not installed.
 * @throws {Error} when the runtime handler has not been built.
 */
export async function startLambdaEmulator(options: LambdaEmulatorOptions = {}): Promise<LambdaEmulator> {
  if (!existsSync(join(ROOT, 'dist', 'infra', 'function-handler.js'))) {
    throw new Error('dist/infra/function-handler.js is missing: run `npm run build` first');
  }
  const lambdaModule = resolveDevModule('serverless-offline/lambda', 'serverless-offline');
  const logModule = join(dirname(lambdaModule), '..', 'utils', 'log.js');
  const errorsModule = join(dirname(lambdaModule), '..', 'errors', 'index.js');
  const tmp = mkdtempSync(join(tmpdir(), 'fanout-lambda-emulator-'));
  const specs = (options.functions ?? [{ name: 'fanout-runtime' }]).map((f) => ({
    name: f.name,
    handler: f.handler ?? RUNTIME_HANDLER,
    timeoutSeconds: f.timeoutSeconds ?? 30,
    environment: { ...options.environment, ...f.environment, TMPDIR: tmp },
  }));
  const script = join(tmp, 'emulator.mjs');
  writeFileSync(script, CHILD);
  let proxy: ThrottleProxy | undefined;
  let child: ReturnType<typeof spawnEmulatorChild> | undefined;
  const stop = runOnce(async () => {
    await proxy?.close();
    await child?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });
  try {
    // The proxy listens first, on the public port, so a taken port fails before the child starts.
    proxy = await startThrottleProxy(options.port ?? 0, 'lambda', (req, res) =>
      answerConfiguration(specs, req, res),
    );
    const started = spawnEmulatorChild(
      [
        script,
        pathToFileURL(lambdaModule).href,
        pathToFileURL(logModule).href,
        pathToFileURL(errorsModule).href,
        ROOT,
        JSON.stringify(specs),
        // serverless-offline's HTTP server hides the port it got, so it is handed a free one.
        String(await freeLoopbackPort()),
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TMPDIR: tmp } },
    );
    child = started;
    proxy.setUpstream(await readReadyPort(started, 'Lambda emulator', 20_000));
    const { endpoint } = proxy;
    const p = proxy;
    return {
      endpoint,
      throttleNext: (n) => p.throttleNext(n),
      throttleEvery: (n) => p.throttleEvery(n),
      throttled: () => p.throttled(),
      requests: () => p.requests(),
      exited: started.exited,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * serverless-offline has no GetFunctionConfiguration; the driver reads it for the attempt timeout
 * and the cost estimate, so the proxy answers it from the functions' specs (1024 MB, arm64).
 */
function answerConfiguration(
  specs: readonly { name: string; timeoutSeconds: number }[],
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const m = /^\/2015-03-31\/functions\/([^/]+)\/configuration/.exec(req.url ?? '');
  if (req.method !== 'GET' || !m) return false;
  const spec = specs.find((f) => f.name === decodeURIComponent(m[1] ?? ''));
  const body = JSON.stringify(
    spec
      ? {
          FunctionName: spec.name,
          FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${spec.name}`,
          Timeout: spec.timeoutSeconds,
          MemorySize: 1024,
          Architectures: ['arm64'],
        }
      : { Type: 'User', message: `Function not found: ${m[1]}` },
  );
  res.writeHead(spec ? 200 : 404, {
    'content-type': 'application/json',
    ...(spec ? {} : { 'x-amzn-errortype': 'ResourceNotFoundException' }),
  });
  res.end(body);
  return true;
}
