import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';

/** The SigV4 signer the client's configuration builds, and the request shape it signs. */
type RequestSigner = Awaited<ReturnType<LambdaClient['config']['signer']>>;
type HttpRequest = Parameters<RequestSigner['sign']>[0];

/** What Lambda answered an Invoke with status 2xx: the function ran, or its runtime failed. */
export interface InvokeAnswer {
  status: number;
  /** `Handled` or `Unhandled` when the runtime failed; the payload then describes the failure. */
  functionError: string | undefined;
  payload: Buffer;
}

/**
 * An Invoke the Lambda service refused, shaped as the SDK's service exceptions are (`name`,
 * `$fault`, `$metadata.httpStatusCode`, and TooManyRequestsException's `Reason` and
 * `retryAfterSeconds`), so `lambdaSendError` reads both the same way.
 */
export class InvokeServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  readonly Reason?: string;
  readonly retryAfterSeconds?: string;

  constructor(
    name: string,
    message: string,
    status: number,
    extra: { requestId?: string; reason?: string; retryAfterSeconds?: string } = {},
  ) {
    super(message);
    this.name = name;
    // Every error in Lambda's model that is a client fault has a 4xx status, every server fault a 5xx.
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = {
      httpStatusCode: status,
      ...(extra.requestId !== undefined && { requestId: extra.requestId }),
    };
    if (extra.reason !== undefined) this.Reason = extra.reason;
    if (extra.retryAfterSeconds !== undefined) this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}

/** What the sender resolves once from the client's configuration, then reuses for every call. */
interface Resolved {
  url: URL;
  /** The endpoint's own path without a trailing slash, prefixed to the operation's path. */
  basePath: string;
  host: string;
  signer: RequestSigner;
  skewCorrection: boolean;
}

/**
 * Sends synchronous Invoke requests itself instead of through `client.send`: the endpoint,
 * credentials, region, SigV4 signer (`@smithy/signature-v4`, payload hashed with SHA-256) and clock
 * offset are the client's own, read from its configuration, but the request is a plain `node:http`
 * POST on the sender's keep-alive pool. Through `client.send`, the SDK's per-call middleware stack,
 * endpoint resolution and schema (de)serialisation cost about as much CPU as signing and the HTTP
 * round trip together; see bench/README.md, "Invocation rate". Errors are shaped as the SDK's are,
 * and nothing is retried here: the scheduler owns retries.
 */
export class LambdaInvokeSender {
  readonly #client: LambdaClient;
  readonly #httpAgent: HttpAgent;
  readonly #httpsAgent: HttpsAgent;
  #resolving: Promise<Resolved> | undefined;
  #resolved: Resolved | undefined;

  /** `sockets` bounds the keep-alive pool: one per invocation in flight. */
  constructor(client: LambdaClient, sockets: number) {
    this.#client = client;
    const agent = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
    this.#httpAgent = new HttpAgent(agent);
    this.#httpsAgent = new HttpsAgent(agent);
  }

  /**
   * Invokes `functionName` synchronously with `payload` (JSON text), resolving with the function's
   * answer and rejecting with an `InvokeServiceError` for a refusal, or the connection's or the
   * credential provider's own error.
   * @throws when `signal` aborts, with the signal's reason
   */
  async invoke(functionName: string, payload: string, signal: AbortSignal): Promise<InvokeAnswer> {
    const resolved = this.#resolved ?? (await this.#resolveOnce());
    const config = this.#client.config;
    const toSign: HttpRequest = {
      method: 'POST',
      protocol: resolved.url.protocol,
      hostname: resolved.url.hostname,
      ...(resolved.url.port !== '' && { port: Number(resolved.url.port) }),
      path: `${resolved.basePath}/2015-03-31/functions/${encodeFunctionName(functionName)}/invocations`,
      query: {},
      headers: {
        host: resolved.host,
        'content-type': 'application/octet-stream',
        'content-length': String(Buffer.byteLength(payload)),
        'x-amz-invocation-type': 'RequestResponse',
        // The signer uses a payload hash it is given instead of hashing the body through the SDK's
        // Hash wrapper (a copy of the body, a promise, a hex loop): the same SHA-256, signing a
        // quarter faster. Lambda needs the real hash: UNSIGNED-PAYLOAD is documented for S3 only.
        'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'),
      },
      body: payload,
    };
    const sentAt = Date.now();
    const signingDate = new Date(resolved.skewCorrection ? sentAt + config.systemClockOffset : sentAt);
    const signed = await resolved.signer.sign(toSign, { signingDate });
    signal.throwIfAborted();
    const response = await this.#send(resolved.url.protocol, signed, payload, signal);
    if (resolved.skewCorrection) correctClockSkew(config, response.message, sentAt);
    const { statusCode = 0, headers } = response.message;
    if (statusCode >= 200 && statusCode < 300) {
      const functionError = headers['x-amz-function-error'];
      return { status: statusCode, functionError: firstValue(functionError), payload: response.body };
    }
    throw serviceError(statusCode, response.message, response.body);
  }

  /** Closes the sender's idle sockets; a call still in flight finishes on its own. */
  destroy(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  /** Resolves the configuration once for calls that start together; a lookup that failed is tried again. */
  async #resolveOnce(): Promise<Resolved> {
    this.#resolving ??= this.#resolve();
    try {
      this.#resolved = await this.#resolving;
      return this.#resolved;
    } finally {
      this.#resolving = undefined;
    }
  }

  async #resolve(): Promise<Resolved> {
    const config = this.#client.config;
    // Lambda's endpoint rules depend on the region, FIPS and dual-stack settings, never on the function.
    const endpoint = await getEndpointFromInstructions({ FunctionName: 'f' }, InvokeCommand, config);
    // The signer the SDK would build for this endpoint: the same region, service name and escaping.
    const [signer, noSkewCorrection] = await Promise.all([
      config.signer(endpoint.properties?.authSchemes?.[0]),
      config.disableClockSkewCorrection(),
    ]);
    const url = endpoint.url;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`Lambda endpoint ${url.href} is neither http nor https`);
    }
    return {
      url,
      basePath: url.pathname.replace(/\/+$/, ''),
      host: url.host,
      signer,
      skewCorrection: !noSkewCorrection,
    };
  }

  #send(
    protocol: string,
    signed: HttpRequest,
    payload: string,
    signal: AbortSignal,
  ): Promise<{ message: IncomingMessage; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const https = protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)({
        method: 'POST',
        hostname: signed.hostname,
        ...(signed.port !== undefined && { port: signed.port }),
        path: signed.path,
        headers: signed.headers,
        agent: https ? this.#httpsAgent : this.#httpAgent,
      });
      const onAbort = () =>
        req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      const fail = (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      req.on('error', fail);
      req.on('response', (message) => {
        const chunks: Buffer[] = [];
        message.on('data', (chunk: Buffer) => chunks.push(chunk));
        message.on('error', fail);
        message.on('aborted', () => fail(new Error('the connection closed before the answer ended')));
        message.on('end', () => {
          signal.removeEventListener('abort', onAbort);
          resolve({ message, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
        });
      });
      // A string body leaves joined to the headers in one buffer; Node writes a Buffer body as a second chunk.
      req.end(payload);
    });
  }
}

/** The path segment for a function name or ARN, encoded as the SDK encodes labels (`:` too). */
function encodeFunctionName(name: string): string {
  return encodeURIComponent(name).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Keeps signing times near the service's clock as the SDK does: the offset follows the `Date` of
 * every answer (not a cached one, which carries `Age`), so a skewed host's next request signs right.
 */
function correctClockSkew(
  config: { systemClockOffset: number },
  message: IncomingMessage,
  sentAt: number,
): void {
  const date = message.headers.date;
  if (date === undefined || message.headers.age !== undefined) return;
  const serverTime = Date.parse(date);
  const now = Date.now();
  if (Number.isNaN(serverTime) || now - sentAt > 900_000) return;
  config.systemClockOffset = serverTime - now;
}

/**
 * The refusal in an error answer, read as the SDK's REST-JSON protocol reads it: the error's name
 * from `x-amzn-errortype` or the body's `__type`/`code`, the message from `message`/`Message`.
 */
function serviceError(status: number, message: IncomingMessage, body: Buffer): InvokeServiceError {
  const text = body.toString('utf8');
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    // A proxy's or load balancer's HTML page: the status still says what happened.
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const rawName =
    firstValue(message.headers['x-amzn-errortype']) ??
    str(parsed.__type) ??
    str(parsed.code) ??
    str(parsed.Code);
  const name = rawName?.split(':')[0]?.split('#').pop() || `Http${status}Error`;
  const said =
    str(parsed.message) ?? str(parsed.Message) ?? `HTTP ${status}: ${text.slice(0, 200) || 'no body'}`;
  const requestId = firstValue(message.headers['x-amzn-requestid']);
  const reason = str(parsed.Reason);
  const retryAfterSeconds = firstValue(message.headers['retry-after']);
  return new InvokeServiceError(name, said, status, {
    ...(requestId !== undefined && { requestId }),
    ...(reason !== undefined && { reason }),
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  });
}
