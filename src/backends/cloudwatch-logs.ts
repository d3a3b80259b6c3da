import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** One line the runtime function wrote, as CloudWatch Logs keeps it. */
export interface FunctionLogLine {
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** The log stream: one per function environment. */
  stream: string;
  message: string;
}

export interface FunctionLogQuery {
  functionName: string;
  region?: string;
  jobId: string;
  /** Only this task's lines. */
  taskId?: string;
  /** Milliseconds since the epoch: the job's start and end, widened a little. */
  startTime?: number;
  endTime?: number;
  /** Lines to return at most. @default 10,000 */
  limit?: number;
}

/** Lines read past which `mr logs` stops, saying so: a job of a thousand tasks logs a lot. */
const DEFAULT_LIMIT = 10_000;

/**
 * The runtime function's log lines of one job (or one task of it) from CloudWatch Logs: the
 * function's log group (`/aws/lambda/<name>`), filtered by the job id and task id, which start
 * every line job code logs (see createLogger), in time order. The SDK honours
 * `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`. Returns the lines and whether there were more than `limit`.
 */
export async function functionLogLines(
  q: FunctionLogQuery,
): Promise<{ lines: FunctionLogLine[]; truncated: boolean }> {
  const client = new CloudWatchLogsClient({
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 3,
    ...(q.region !== undefined && { region: q.region }),
  });
  const name = q.functionName.includes(':function:')
    ? (q.functionName.split(':function:')[1]?.split(':')[0] ?? q.functionName)
    : q.functionName;
  // Terms in double quotes match as they are; both must appear in a line.
  const pattern = [q.jobId, q.taskId].filter((t): t is string => t !== undefined).map((t) => `"${t}"`);
  const limit = q.limit ?? DEFAULT_LIMIT;
  const lines: FunctionLogLine[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new FilterLogEventsCommand({
          logGroupName: `/aws/lambda/${name}`,
          filterPattern: pattern.join(' '),
          ...(q.startTime !== undefined && { startTime: q.startTime }),
          ...(q.endTime !== undefined && { endTime: q.endTime }),
          ...(nextToken !== undefined && { nextToken }),
        }),
      );
      for (const e of page.events ?? []) {
        if (lines.length >= limit) return { lines, truncated: true };
        lines.push({
          timestamp: e.timestamp ?? 0,
          stream: e.logStreamName ?? '',
          message: (e.message ?? '').replace(/\n$/, ''),
        });
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  } finally {
    client.destroy();
  }
  lines.sort((a, b) => a.timestamp - b.timestamp);
  return { lines, truncated: false };
}
