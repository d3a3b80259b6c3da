import { createHash } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it } from 'vitest';
import { InvokeServiceError, LambdaInvokeSender } from '../../../src/backends/lambda-invoke-sender.js';
import {
  clientFor,
  type InvokeEndpoint,
  type ReceivedInvoke,
  reply,
  startInvokeEndpoint,
  TEST_CREDENTIALS,
} from '../../helpers/invoke-endpoint.js';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:fanout-runtime';
const PAYLOAD = JSON.stringify({ task: { kind: 'map', taskId: 's0-m00000' }, note: 'ünïcode' });

/**
 * The signature a verifier computes from what arrived: only the headers the request says it signed,
 * the path as sent, and the payload hash it claims. Equal to the request's own when what was signed
 * is what was sent.
 */
async function resign(got: ReceivedInvoke, client: LambdaClient): Promise<string | undefined> {
  const auth = String(got.headers.authorization);
  const names = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const headers = Object.fromEntries(names.map((h) => [h, String(got.headers[h])]));
  const signingDate = stampTime(got);
  const signer = new SignatureV4({
    credentials: TEST_CREDENTIALS,
    region: 'eu-west-1',
    service: 'lambda',
    sha256: client.config.sha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    {
      method: got.method,
      protocol: 'http:',
      hostname: String(got.headers.host).split(':')[0] ?? '',
      path: got.url,
      query: {},
      headers,
      body: got.body,
    },
    { signingDate },
  );
  return signed.headers.authorization;
}

/** The signing time a request carries in `x-amz-date` (`20261202T150000Z`). */
function stampTime(got: ReceivedInvoke | undefined): Date {
  const s = String(got?.headers['x-amz-date']);
  return new Date(
    `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`,
  );
}

const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('LambdaInvokeSender', () => {
  let endpoint: InvokeEndpoint | undefined;
  const made: { client: LambdaClient; sender: LambdaInvokeSender }[] = [];
  const senderFor = (url: string, client = clientFor(url)) => {
    const sender = new LambdaInvokeSender(client, 2);
    made.push({ client, sender });
    return { client, sender };
  };
  afterEach(async () => {
    for (const m of made.splice(0)) {
      m.sender.destroy();
      m.client.destroy();
    }
    await endpoint?.stop();
    endpoint = undefined;
  });

  it('sends a request whose SigV4 signature covers the path, headers and payload sent, as the SDK’s does', async () => {
    endpoint = await startInvokeEndpoint((res) => reply(res, 200, { ok: true }));
    const { client, sender } = senderFor(endpoint.url);
    await sender.invoke(ARN, PAYLOAD, new AbortController().signal);
    await client.send(new InvokeCommand({ FunctionName: ARN, Payload: new TextEncoder().encode(PAYLOAD) }));
    const [ours, sdk] = endpoint.received as [ReceivedInvoke, ReceivedInvoke];
    // The verifier accepts the SDK's own request: it checks what real Lambda checks.
    expect(await resign(sdk, client)).toBe(sdk.headers.authorization);
    expect(await resign(ours, client)).toBe(ours.headers.authorization);
    expect(ours.headers['x-amz-content-sha256']).toBe(sha256Hex(Buffer.from(PAYLOAD)));
    expect(ours.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/lambda\//,
    );
    expect(ours.headers['x-amz-security-token']).toBe('tok');
    expect(ours).toMatchObject({ method: 'POST', url: sdk.url, body: Buffer.from(PAYLOAD) });
    expect(ours.headers).toMatchObject({
      'x-amz-invocation-type': 'RequestResponse',
      'content-length': String(Buffer.byteLength(PAYLOAD)),
    });
  });

  it('answers with the status, the function error and the payload of a 200', async () => {
    endpoint = await startInvokeEndpoint((res) =>
      reply(res, 200, { errorType: 'Error', errorMessage: 'boom' }, { 'x-amz-function-error': 'Unhandled' }),
    );
    const { sender } = senderFor(endpoint.url);
    const answer = await sender.invoke('f', '{}', new AbortController().signal);
    expect(answer.status).toBe(200);
    expect(answer.functionError).toBe('Unhandled');
    expect(JSON.parse(answer.payload.toString())).toEqual({ errorType: 'Error', errorMessage: 'boom' });
  });

  it.each<{ status: number; body: object; headers: Record<string, string> }>([
    {
      status: 429,
      body: {
        Type: 'User',
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        message: 'Rate Exceeded.',
      },
      headers: {
        'x-amzn-errortype': 'TooManyRequestsException',
        'retry-after': '3',
        'x-amzn-requestid': 'r-1',
      },
    },
    {
      status: 404,
      body: { Type: 'User', Message: 'Function not found: f' },
      headers: { 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/coral/x' },
    },
    {
      status: 500,
      body: { Type: 'Service', message: 'internal' },
      headers: { 'x-amzn-errortype': 'ServiceException' },
    },
    {
      status: 502,
      body: { __type: 'com.amazonaws.lambda#ResourceNotReadyException', message: 'starting' },
      headers: {},
    },
  ])('shapes a $status refusal as the SDK shapes it', async ({ status, body, headers }) => {
    endpoint = await startInvokeEndpoint((res) => reply(res, status, body, headers));
    const { client, sender } = senderFor(endpoint.url);
    const ours = await sender.invoke('f', '{}', new AbortController().signal).catch((e: unknown) => e);
    const sdk = await client
      .send(new InvokeCommand({ FunctionName: 'f', Payload: '{}' }))
      .catch((e: unknown) => e);
    expect(ours).toBeInstanceOf(InvokeServiceError);
    const shape = (e: unknown) => {
      const { name, message, $fault, $metadata, Reason, retryAfterSeconds } = e as InvokeServiceError;
      return { name, message, $fault, status: $metadata.httpStatusCode, Reason, retryAfterSeconds };
    };
    expect(shape(ours)).toEqual(shape(sdk));
  });

  it('names a refusal with no error type by its status, keeping the start of the body', async () => {
    endpoint = await startInvokeEndpoint((res) => reply(res, 503, '<html>Service Unavailable</html>'));
    const { sender } = senderFor(endpoint.url);
    const err = await sender.invoke('f', '{}', new AbortController().signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'Http503Error', $fault: 'server', $metadata: { httpStatusCode: 503 } });
    expect((err as Error).message).toContain('<html>Service Unavailable</html>');
  });

  it('abandons a call when its signal aborts, closing the connection', async () => {
    endpoint = await startInvokeEndpoint(() => {}); // never answers
    const { sender } = senderFor(endpoint.url);
    const abort = new AbortController();
    const call = sender.invoke('f', '{}', abort.signal).catch((e: unknown) => e);
    await expect.poll(() => endpoint?.received.length).toBe(1);
    abort.abort(new Error('took too long'));
    expect(await call).toMatchObject({ message: 'took too long' });
    await expect.poll(() => endpoint?.closed()).toBe(1);
  });

  it('does not send a call whose signal aborted before it went out', async () => {
    endpoint = await startInvokeEndpoint((res) => reply(res, 200, {}));
    const { sender } = senderFor(endpoint.url);
    const abort = new AbortController();
    abort.abort(new Error('too late'));
    await expect(sender.invoke('f', '{}', abort.signal)).rejects.toThrow('too late');
    expect(endpoint.received).toHaveLength(0);
  });

  it('follows the service’s clock, as the SDK does, so the next request signs with its time', async () => {
    const ahead = 3_600_000;
    endpoint = await startInvokeEndpoint((res) =>
      reply(res, 200, {}, { date: new Date(Date.now() + ahead).toUTCString() }),
    );
    const { client, sender } = senderFor(endpoint.url);
    await sender.invoke('f', '{}', new AbortController().signal);
    expect(client.config.systemClockOffset).toBeGreaterThan(ahead - 5_000);
    expect(client.config.systemClockOffset).toBeLessThan(ahead + 5_000);
    await sender.invoke('f', '{}', new AbortController().signal);
    const skew = stampTime(endpoint.received[1]).getTime() - Date.now();
    expect(skew).toBeGreaterThan(ahead - 60_000);
    expect(skew).toBeLessThan(ahead + 60_000);
  });

  it('keeps the endpoint’s own path in front of the operation’s', async () => {
    endpoint = await startInvokeEndpoint((res) => reply(res, 200, {}));
    const { sender } = senderFor(`${endpoint.url}/lambda-proxy/`);
    await sender.invoke('f', '{}', new AbortController().signal);
    expect(endpoint.received[0]?.url).toBe('/lambda-proxy/2015-03-31/functions/f/invocations');
  });

  it('tries again to resolve an endpoint whose lookup failed', async () => {
    endpoint = await startInvokeEndpoint((res) => reply(res, 200, {}));
    let lookups = 0;
    const region = async () => {
      lookups++;
      if (lookups === 1) throw new Error('no region yet');
      return 'eu-west-1';
    };
    const client = new LambdaClient({ endpoint: endpoint.url, region, credentials: TEST_CREDENTIALS });
    const { sender } = senderFor(endpoint.url, client);
    await expect(sender.invoke('f', '{}', new AbortController().signal)).rejects.toThrow('no region yet');
    await expect(sender.invoke('f', '{}', new AbortController().signal)).resolves.toMatchObject({
      status: 200,
    });
    expect(endpoint.received).toHaveLength(1);
  });

  it('passes on the connection’s own error when nothing answers', async () => {
    endpoint = await startInvokeEndpoint(() => {});
    const url = endpoint.url;
    await endpoint.stop();
    endpoint = undefined;
    const { sender } = senderFor(url);
    const err = await sender.invoke('f', '{}', new AbortController().signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(err).not.toHaveProperty('$metadata');
  });
});
