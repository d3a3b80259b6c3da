import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  type LambdaClientConfig,
} from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { formatDuration } from '../duration.js';
import { deserializeError, type ErrorContext, FanoutError, WorkerCrashedError } from '../errors.js';
import type { BundleRef, LambdaEvent, LambdaReply } from '../protocol/lambda-protocol.js';
import type { Task, TaskResult } from '../protocol/task-types.js';
import type { Invoker } from './invoker.js';
import { type InvokeAnswer, LambdaInvokeSender } from './lambda-invoke-sender.js';
import { lambdaSendError } from './lambda-send-error.js';

/**
 * Largest invocation payload Fanout sends. Lambda accepts 6 MB synchronously, but a task is a few
 * KiB of pointers; anything near this limit means data is travelling where only keys should.
 */
export const MAX_INVOKE_PAYLOAD_BYTES = 256 * 1024;

/** Lambda's own maximum timeout is 15 minutes; this stays under it. */
export const DEFAULT_LAMBDA_TASK_TIMEOUT_MS = 14 * 60_000;

export interface LambdaInvokerOptions {
  /** Name or ARN of the deployed runtime function. */
  functionName: string;
  /** The shipped job bundle every invocation points to (see `shipBundle`). */
  bundle: BundleRef;
  /** Attempts the scheduler runs at once; also sizes the keep-alive connection pool. */
  concurrency: number;
  /**
   * A client to use instead of one from `createLambdaClient`; the invoker then does not destroy it.
   * Invocations use its endpoint, region, credentials, signer and clock offset, but go out through
   * the invoker's own connection pool, not its middleware stack or request handler.
   */
  client?: LambdaClient;
  /** Region of the function, for the client this invoker makes. @default the SDK's usual chain */
  region?: string;
  /**
   * How long one attempt may take before it is abandoned as retryable; set it below the function's
   * own timeout so the driver gives up first and can say which task hung.
   * @default 840000 (14 minutes)
   */
  taskTimeoutMs?: number;
}

/**
 * A Lambda client suited to fan-out: one keep-alive connection per concurrent invocation, and no
 * SDK retries, because the scheduler owns retries (with backoff and 429-aware concurrency) and a
 * silently repeated invocation would run a task twice.
 */
export function createLambdaClient(concurrency: number, config: LambdaClientConfig = {}): LambdaClient {
  const agent = { keepAlive: true, maxSockets: concurrency };
  return new LambdaClient({
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agent),
      httpsAgent: new HttpsAgent(agent),
    }),
    ...config,
  });
}

/**
 * An Invoker that runs each task attempt as one synchronous invocation of the Fanout runtime
 * function. Errors reach the scheduler typed: `ThrottledError` for 429, the task's own error as the
 * function serialized it, and a retryable `WorkerCrashedError` for a crash or a timeout.
 */
export class LambdaInvoker implements Invoker {
  readonly concurrency: number;
  readonly #functionName: string;
  readonly #bundle: BundleRef;
  readonly #client: LambdaClient;
  readonly #sender: LambdaInvokeSender;
  readonly #ownsClient: boolean;
  readonly #timeoutMs: number;
  #closed = false;
  /** Function slots in use: an invocation takes the lowest free one, its lane in the job report. */
  readonly #slots: boolean[] = [];

  constructor(options: LambdaInvokerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    }
    const timeout = options.taskTimeoutMs ?? DEFAULT_LAMBDA_TASK_TIMEOUT_MS;
    if (!(timeout > 0)) throw new RangeError(`taskTimeoutMs must be positive, got ${options.taskTimeoutMs}`);
    this.concurrency = options.concurrency;
    this.#functionName = options.functionName;
    this.#bundle = options.bundle;
    this.#timeoutMs = timeout;
    this.#ownsClient = options.client === undefined;
    this.#client =
      options.client ??
      createLambdaClient(options.concurrency, options.region === undefined ? {} : { region: options.region });
    this.#sender = new LambdaInvokeSender(this.#client, options.concurrency);
  }

  async invoke(task: Task, onStart?: (lane: string) => void): Promise<TaskResult> {
    const context: ErrorContext = { jobId: task.jobId, taskId: task.taskId, attempt: task.attempt };
    const where = `${task.taskId} attempt ${task.attempt}`;
    if (this.#closed) throw new FanoutError('Lambda invoker is closed', { context });
    const payload = JSON.stringify({ task, bundle: this.#bundle } satisfies LambdaEvent);
    const bytes = Buffer.byteLength(payload);
    if (bytes > MAX_INVOKE_PAYLOAD_BYTES) {
      throw new FanoutError(
        `invocation payload for ${where} is ${bytes} bytes, over the ${MAX_INVOKE_PAYLOAD_BYTES}-byte limit`,
        { retryable: false, context },
      );
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
    let out: InvokeAnswer;
    // Lambda does not say which environment ran an invocation; the slot is which of the invocations
    // in flight it was, as a worker thread is on the local pool.
    let slot = this.#slots.indexOf(false);
    if (slot < 0) slot = this.#slots.length;
    this.#slots[slot] = true;
    onStart?.(`function ${slot}`);
    try {
      out = await this.#sender.invoke(this.#functionName, payload, abort.signal);
    } catch (err) {
      if (abort.signal.aborted) {
        throw new WorkerCrashedError(
          `${where} timed out after ${formatDuration(this.#timeoutMs)} on Lambda (--task-timeout)`,
          {
            retryable: true,
            context,
            cause: err,
          },
        );
      }
      throw lambdaSendError(err, this.#functionName, where, context);
    } finally {
      clearTimeout(timer);
      this.#slots[slot] = false;
    }
    const text = out.payload.toString('utf8');
    if (out.functionError) {
      // The handler never throws for a task failure, so this is the runtime itself failing: out of
      // memory, the function's timeout, a crash, or an event it could not read. Another attempt may pass.
      const { errorType, errorMessage } =
        parseJson<{ errorType?: string; errorMessage?: string }>(text) ?? {};
      throw new WorkerCrashedError(
        `Lambda ${this.#functionName} failed running ${where} (${out.functionError}` +
          `${errorType ? ` ${errorType}` : ''}): ${errorMessage ?? (text.slice(0, 500) || 'no message')}`,
        { retryable: true, context },
      );
    }
    const reply = parseJson<LambdaReply>(text);
    if (reply?.ok === true && typeof reply.result === 'object') return reply.result;
    if (reply?.ok === false && typeof reply.error === 'object') throw deserializeError(reply.error, context);
    throw new FanoutError(
      `Lambda ${this.#functionName} answered ${where} with something that is not a Fanout reply ` +
        `(is it the Fanout runtime?): ${text.slice(0, 200)}`,
      { retryable: false, context },
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sender.destroy();
    if (this.#ownsClient) this.#client.destroy();
  }
}

/** What the driver needs to know of the deployed function: its limits and what it costs. */
export interface FunctionFacts {
  /** An attempt timeout a little under the function's own (less 10%, at least 5 s). */
  attemptTimeoutMs?: number;
  memoryMb?: number;
  arch?: 'arm64' | 'x86_64';
}

/**
 * Reads the function's configuration once: the driver then gives up on a hung attempt before Lambda
 * does (and can name the task), and can estimate the run's cost. Empty when the configuration cannot
 * be read (no permission, or an emulator without the API): defaults apply and no cost is shown.
 */
export async function describeFunction(functionName: string, client?: LambdaClient): Promise<FunctionFacts> {
  const c = client ?? createLambdaClient(1);
  try {
    const config = await c.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const facts: FunctionFacts = {};
    if (config.Timeout) {
      const seconds = config.Timeout - Math.max(5, config.Timeout * 0.1);
      if (seconds > 0) facts.attemptTimeoutMs = Math.round(seconds * 1000);
    }
    if (config.MemorySize) facts.memoryMb = config.MemorySize;
    const arch = config.Architectures?.[0];
    if (arch === 'arm64' || arch === 'x86_64') facts.arch = arch;
    return facts;
  } catch {
    return {};
  } finally {
    if (!client) c.destroy();
  }
}

function parseJson<T extends object>(text: string): Partial<T> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Partial<T>) : undefined;
  } catch {
    return undefined;
  }
}
