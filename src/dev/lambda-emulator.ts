import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveDevModule } from './dev-packages.js';
import { freeLoopbackPort, readReadyPort, runOnce, spawnEmulatorChild } from './emulator-child.js';
import { answerJson } from './json-reply.js';
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
    const answerPolicy = policyApi(specs);
    proxy = await startThrottleProxy(
      options.port ?? 0,
      'lambda',
      (req, res) => answerConfiguration(specs, req, res) || answerPolicy(req, res),
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

/**
 * serverless-offline has no resource-based policies; EventBridge and S3 setups grant themselves
 * invocation with AddPermission, so the proxy keeps each function's policy statements in memory:
 * AddPermission, RemovePermission and GetPolicy, per function and qualifier, with RevisionIds. The
 * policy is kept, not enforced: every caller may invoke.
 */
function policyApi(
  specs: readonly { name: string }[],
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const policies = new Map<string, { statements: Record<string, unknown>[]; revision: string }>();
  const policyOf = (id: string) => {
    let p = policies.get(id);
    if (p === undefined) {
      p = { statements: [], revision: randomUUID() };
      policies.set(id, p);
    }
    return p;
  };
  const fail = (res: ServerResponse, status: number, type: string, message: string): void => {
    answerJson(res, status, { Type: 'User', message }, { errorType: type });
  };
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/2015-03-31\/functions\/([^/]+)\/policy(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (m === null) return false;
    const sidInPath = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const method = req.method ?? 'GET';
    if (!(sidInPath === undefined ? method === 'POST' || method === 'GET' : method === 'DELETE'))
      return false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fn = functionOf(decodeURIComponent(m[1] ?? ''), url.searchParams.get('Qualifier'));
      const spec = specs.find((f) => f.name === fn.name);
      const arn = `arn:aws:lambda:us-east-1:000000000000:function:${fn.name}${fn.qualifier ? `:${fn.qualifier}` : ''}`;
      if (spec === undefined) {
        fail(res, 404, 'ResourceNotFoundException', `Function not found: ${arn}`);
        return;
      }
      const id = `${fn.name}:${fn.qualifier ?? ''}`;
      const current = policies.get(id);
      if (method === 'GET') {
        if (current === undefined || current.statements.length === 0) {
          fail(res, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
          return;
        }
        const document = { Version: '2012-10-17', Id: 'default', Statement: current.statements };
        answerJson(res, 200, { Policy: JSON.stringify(document), RevisionId: current.revision });
        return;
      }
      if (method === 'DELETE') {
        const revision = url.searchParams.get('RevisionId');
        const at = current?.statements.findIndex((s) => s.Sid === sidInPath) ?? -1;
        if (current === undefined || at < 0) {
          fail(
            res,
            404,
            'ResourceNotFoundException',
            `Statement ${sidInPath} is not found in resource policy.`,
          );
          return;
        }
        if (revision !== null && revision !== current.revision) {
          fail(res, 412, 'PreconditionFailedException', REVISION_MISMATCH);
          return;
        }
        current.statements.splice(at, 1);
        current.revision = randomUUID();
        res.writeHead(204, { 'x-amzn-requestid': randomUUID() }).end();
        return;
      }
      let body: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error();
        body = parsed as Record<string, unknown>;
      } catch {
        fail(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
        return;
      }
      const invalid = checkPermission(body);
      if (invalid !== undefined) {
        fail(res, 400, 'ValidationException', invalid);
        return;
      }
      const policy = policyOf(id);
      const sid = body.StatementId as string;
      if (typeof body.RevisionId === 'string' && body.RevisionId !== policy.revision) {
        fail(res, 412, 'PreconditionFailedException', REVISION_MISMATCH);
        return;
      }
      if (policy.statements.some((s) => s.Sid === sid)) {
        fail(
          res,
          409,
          'ResourceConflictException',
          `The statement id (${sid}) provided already exists. Please choose a new statement id, or remove the existing statement.`,
        );
        return;
      }
      const statement = permissionStatement(body, arn);
      policy.statements.push(statement);
      policy.revision = randomUUID();
      answerJson(res, 201, { Statement: JSON.stringify(statement) });
    });
    return true;
  };
}

const REVISION_MISMATCH =
  'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id';

/** A function named by name, `name:qualifier`, partial or full ARN; `$LATEST` is no qualifier. */
function functionOf(given: string, queryQualifier: string | null): { name: string; qualifier?: string } {
  const arn = /(?:^|:)function:([^:]+)(?::([^:]+))?$/.exec(given);
  const [name, qualifier] = arn ? [arn[1] ?? '', arn[2]] : given.split(':');
  const q = qualifier ?? queryQualifier ?? undefined;
  return { name: name ?? '', ...(q === undefined || q === '$LATEST' ? {} : { qualifier: q }) };
}

/** Why an AddPermission body is invalid, as Lambda's validation says it; undefined when valid. */
function checkPermission(b: Record<string, unknown>): string | undefined {
  const rules: [string, RegExp][] = [
    ['StatementId', /^[a-zA-Z0-9\-_.]{1,100}$/],
    ['Action', /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/],
    ['Principal', /^[^\s]+$/],
  ];
  for (const [member, pattern] of rules) {
    const v = b[member];
    if (v === undefined || v === null) {
      return `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`;
    }
    if (typeof v !== 'string' || !pattern.test(v)) {
      return `1 validation error detected: Value '${String(v)}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`;
    }
  }
  return undefined;
}

/** The policy statement AddPermission adds, as Lambda writes it. */
function permissionStatement(b: Record<string, unknown>, resource: string): Record<string, unknown> {
  const p = b.Principal as string;
  const principal =
    p === '*'
      ? '*'
      : /^\d{12}$/.test(p)
        ? { AWS: `arn:aws:iam::${p}:root` }
        : p.startsWith('arn:')
          ? { AWS: p }
          : { Service: p };
  const condition: Record<string, Record<string, string>> = {};
  const add = (op: string, key: string, value: unknown) => {
    if (typeof value !== 'string') return;
    condition[op] = { ...condition[op], [key]: value };
  };
  add('StringEquals', 'AWS:SourceAccount', b.SourceAccount);
  add('StringEquals', 'aws:PrincipalOrgID', b.PrincipalOrgID);
  add('StringEquals', 'lambda:EventSourceToken', b.EventSourceToken);
  add('StringEquals', 'lambda:FunctionUrlAuthType', b.FunctionUrlAuthType);
  add('ArnLike', 'AWS:SourceArn', b.SourceArn);
  if (b.InvokedViaFunctionUrl === true) add('Bool', 'lambda:InvokedViaFunctionUrl', 'true');
  return {
    Sid: b.StatementId,
    Effect: 'Allow',
    Principal: principal,
    Action: b.Action,
    Resource: resource,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}
