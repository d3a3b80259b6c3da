import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaInvoker } from '../../../src/backends/lambda-invoker.js';
import { FanoutError, ThrottledError, UserCodeError, WorkerCrashedError } from '../../../src/errors.js';
import type { Task } from '../../../src/protocol/task-types.js';
import { clientFor, type InvokeEndpoint, reply, startInvokeEndpoint } from '../../helpers/invoke-endpoint.js';

const task = { kind: 'map', jobId: 'job-1', taskId: 's0-m00004', attempt: 2 } as unknown as Task;
const bundle = { store: 's3://bucket/', key: 'bundles/x.mjs', sha256: 'a'.repeat(64), bytes: 1 };
const result = { kind: 'map', taskId: 's0-m00004', attempt: 2, metrics: {} };

describe('LambdaInvoker', () => {
  let endpoint: InvokeEndpoint | undefined;
  const invokers: LambdaInvoker[] = [];
  /** An invoker whose endpoint answers every call with `answer`. */
  const invokerAnswering = async (
    answer: (res: ServerResponse) => void,
    options: { taskTimeoutMs?: number; credentials?: Parameters<typeof clientFor>[1] } = {},
  ) => {
    endpoint = await startInvokeEndpoint(answer);
    const client = clientFor(endpoint.url, options.credentials);
    const made = new LambdaInvoker({
      functionName: 'fanout-runtime',
      bundle,
      concurrency: 2,
      client,
      ...(options.taskTimeoutMs !== undefined && { taskTimeoutMs: options.taskTimeoutMs }),
    });
    invokers.push(made);
    return { invoker: made, client };
  };
  afterEach(async () => {
    await Promise.all(invokers.splice(0).map((i) => i.close()));
    await endpoint?.stop();
    endpoint = undefined;
  });

  it('sends the task and the bundle, and returns the reply’s result', async () => {
    const { invoker } = await invokerAnswering((res) => reply(res, 200, { ok: true, result }));
    await expect(invoker.invoke(task)).resolves.toEqual(result);
    expect(JSON.parse(endpoint?.received[0]?.body.toString() ?? '')).toEqual({ task, bundle });
    expect(endpoint?.received[0]?.url).toBe('/2015-03-31/functions/fanout-runtime/invocations');
  });

  it('rebuilds the task’s own error from a failed reply', async () => {
    const error = { name: 'UserCodeError', message: 'map threw', retryable: true };
    const { invoker } = await invokerAnswering((res) => reply(res, 200, { ok: false, error }));
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserCodeError);
    expect(err).toMatchObject({
      message: 'map threw',
      context: { jobId: 'job-1', taskId: 's0-m00004', attempt: 2 },
    });
  });

  it('turns a function error into a retryable WorkerCrashedError with its type and message', async () => {
    const { invoker } = await invokerAnswering((res) =>
      reply(
        res,
        200,
        { errorType: 'Runtime.ExitError', errorMessage: 'exit status 3' },
        { 'x-amz-function-error': 'Unhandled' },
      ),
    );
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toContain('(Unhandled Runtime.ExitError): exit status 3');
  });

  it('turns a 429 into a retryable ThrottledError with its reason and wait', async () => {
    const { invoker } = await invokerAnswering((res) =>
      reply(
        res,
        429,
        { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.' },
        { 'x-amzn-errortype': 'TooManyRequestsException', 'retry-after': '2' },
      ),
    );
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(err).toMatchObject({ retryable: true, context: { taskId: 's0-m00004', attempt: 2 } });
    expect((err as Error).message).toContain(
      '(ReservedFunctionConcurrentInvocationLimitExceeded), retry after 2 s',
    );
  });

  it.each([
    ['a service exception', 500, { message: 'internal' }, { 'x-amzn-errortype': 'ServiceException' }],
    ['a gateway’s HTML page', 502, '<html>Bad Gateway</html>', {}],
    ['a 503 with no error type', 503, '', {}],
  ])('retries %s', async (_, status, body, headers) => {
    const { invoker } = await invokerAnswering((res) => reply(res, status, body, headers));
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FanoutError);
    expect(err).not.toBeInstanceOf(ThrottledError);
    expect(err).toMatchObject({ retryable: true });
  });

  it('does not retry a missing function', async () => {
    const { invoker } = await invokerAnswering((res) =>
      reply(res, 404, { Message: 'Function not found' }, { 'x-amzn-errortype': 'ResourceNotFoundException' }),
    );
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'FanoutError', retryable: false });
    expect((err as Error).message).toContain('ResourceNotFoundException: Function not found');
  });

  it('abandons an attempt past the task timeout as a retryable WorkerCrashedError', async () => {
    const { invoker } = await invokerAnswering(() => {}, { taskTimeoutMs: 200 });
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toContain('timed out after 200 ms');
  });

  it('retries a connection that was refused', async () => {
    const { invoker } = await invokerAnswering((res) => reply(res, 200, { ok: true, result }));
    await endpoint?.stop();
    endpoint = undefined;
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('does not retry when no credentials can be found, and sends nothing', async () => {
    const noCredentials = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
    };
    const { invoker } = await invokerAnswering((res) => reply(res, 200, { ok: true, result }), {
      credentials: noCredentials,
    });
    const err = await invoker.invoke(task).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toContain('CredentialsProviderError');
    expect(endpoint?.received).toHaveLength(0);
  });

  it('refuses to invoke once closed', async () => {
    const { invoker } = await invokerAnswering((res) => reply(res, 200, { ok: true, result }));
    await invoker.close();
    await expect(invoker.invoke(task)).rejects.toThrow('closed');
  });
});
