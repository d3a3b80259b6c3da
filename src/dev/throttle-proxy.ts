import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of an emulator that can answer as AWS does when throttling: Lambda's 429
 * TooManyRequestsException, or S3's 503 SlowDown. Emulators never throttle; tests of the driver's
 * backoff and adaptive concurrency put this in front of them.
 */
export interface ThrottleProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Where requests go from now on; until set, every request is answered 503. */
  setUpstream(port: number): void;
  /** Answers the next `n` requests with a throttle. */
  throttleNext(n: number): void;
  /** From now on answers every `n`-th request with a throttle (0 stops), a steady fraction 1/n. */
  throttleEvery(n: number): void;
  /** Requests answered with a throttle so far. */
  throttled(): number;
  /** Requests received so far, throttled ones included. */
  requests(): number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1:`port` (0 picks a free one) and forwards to an upstream port on loopback.
 * serverless-offline never throttles, so tests of 429 handling set `throttleNext` here.
 */
export async function startThrottleProxy(
  port: number,
  style: 'lambda' | 's3' = 'lambda',
  /** Answers requests the upstream emulator lacks an API for; returns false to pass a request on. */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<ThrottleProxy> {
  let upstream: number | undefined;
  let throttle = 0;
  let every = 0;
  let requests = 0;
  let throttled = 0;
  const server = createServer((req, res) => {
    if (extra?.(req, res)) return;
    requests++;
    if (throttle > 0 || (every > 0 && requests % every === 0)) {
      if (throttle > 0) throttle--;
      throttled++;
      // Drain the request body so the client sees the answer rather than a reset connection.
      req.resume();
      if (style === 's3') answerSlowDown(res);
      else answerThrottled(res);
    } else if (upstream === undefined) {
      res.writeHead(503).end();
    } else {
      forward(req, res, upstream);
    }
  });
  await new Promise<void>((res, rej) => server.once('error', rej).listen(port, '127.0.0.1', () => res()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setUpstream: (p) => {
      upstream = p;
    },
    throttleNext: (n) => {
      throttle = n;
    },
    throttleEvery: (n) => {
      every = n;
    },
    throttled: () => throttled,
    requests: () => requests,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
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

/** The response S3 gives while a prefix's partition splits under load. */
function answerSlowDown(res: ServerResponse): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>' +
    '<Message>Please reduce your request rate.</Message></Error>';
  res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
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
