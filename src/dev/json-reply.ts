import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * Answers an emulated AWS API call with a JSON body, as AWS does: a request id, and for an error its
 * name in `x-amzn-errortype`, which the SDK throws it by.
 */
export function answerJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  o: { errorType?: string; contentType?: string } = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': o.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(o.errorType === undefined ? {} : { 'x-amzn-errortype': o.errorType }),
  });
  res.end(text);
}
