import { backoffMs, sleep } from '../backoff.js';
import { FanoutError, JobCancelledError, UsageError } from '../errors.js';
import type { JobResult } from './run-job.js';

/** Where a run's outcome is sent: an SNS topic, or a webhook POSTed as JSON. */
export type NotifyTarget = { kind: 'sns'; topicArn: string; region: string } | { kind: 'webhook'; url: URL };

/** What a run says of itself when it ends, as JSON: the SNS message or the webhook's body. */
export type JobNotice =
  | {
      source: 'fanout';
      event: 'job-succeeded';
      at: string;
      jobId: string;
      name: string;
      output: string;
      /** Part files written (`_SUCCESS` and the report not counted). */
      parts: number;
      wallMs: number;
      counters: JobResult['counters'];
      cost?: JobResult['cost'];
      report: string;
    }
  | {
      source: 'fanout';
      event: 'job-failed' | 'job-cancelled';
      at: string;
      /** Absent when the run failed before it had an id (an input that is not there, say). */
      jobId?: string;
      name: string;
      output?: string;
      error: { name: string; message: string };
      /** The task that exhausted its attempts, when one did. */
      task?: { id: string; attempt?: number; input?: string };
      report?: string;
    };

/** An SNS topic's ARN, its region captured. */
export const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
/** Hosts a plain-http webhook may name: a local receiver, as `mr dev` and tests use. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const WEBHOOK_ATTEMPTS = 3;
const WEBHOOK_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 500;

/**
 * Parses `sns:<topic-arn>` or a webhook URL (`https://…`; `http://` only to 127.0.0.1 or localhost).
 * @throws {UsageError} naming the target and what is wrong with it.
 */
export function parseNotifyTarget(spec: string): NotifyTarget {
  const bad = (why: string) => new UsageError(`notify target ${JSON.stringify(spec)}: ${why}`);
  if (spec.startsWith('sns:')) {
    const arn = spec.slice(4);
    const m = SNS_TOPIC_ARN.exec(arn);
    if (!m) throw bad('not an SNS topic ARN (sns:arn:aws:sns:<region>:<account>:<topic>)');
    return { kind: 'sns', topicArn: arn, region: m[1] as string };
  }
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw bad('expected sns:<topic-arn> or an https:// webhook URL');
  }
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    throw bad('a webhook must use https (plain http only to 127.0.0.1 or localhost)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw bad('expected sns:<topic-arn> or an https:// webhook URL');
  }
  return { kind: 'webhook', url };
}

/** The notice of a run that succeeded. */
export function successNotice(r: JobResult, at = new Date()): JobNotice {
  return {
    source: 'fanout',
    event: 'job-succeeded',
    at: at.toISOString(),
    jobId: r.jobId,
    name: r.name,
    output: r.output,
    parts: r.parts.length,
    wallMs: r.wallMs,
    counters: r.counters,
    ...(r.cost && { cost: r.cost }),
    report: r.report,
  };
}

/** What a run knew of itself when it failed. */
export interface RunFacts {
  jobId?: string;
  name: string;
  output?: string;
}

/** The notice of a run that failed or was cancelled, with the task at fault when one was. */
export function failureNotice(err: unknown, facts: RunFacts, at = new Date()): JobNotice {
  const e = err instanceof Error ? err : new Error(String(err));
  const context = e instanceof FanoutError ? e.context : {};
  return {
    source: 'fanout',
    event: e instanceof JobCancelledError ? 'job-cancelled' : 'job-failed',
    at: at.toISOString(),
    ...(facts.jobId !== undefined && { jobId: facts.jobId }),
    name: facts.name,
    ...(facts.output !== undefined && { output: facts.output }),
    error: { name: e.name, message: e.message },
    ...(context.taskId !== undefined && {
      task: {
        id: context.taskId,
        ...(context.attempt !== undefined && { attempt: context.attempt }),
        ...(context.input !== undefined && { input: context.input }),
      },
    }),
    ...(e instanceof FanoutError && e.report !== undefined && { report: e.report }),
  };
}

/**
 * Sends the notice to every target at once. A target that cannot be reached does not change the
 * run's outcome: what went wrong comes back, one line per target, for the run to warn of.
 */
export async function sendNotice(targets: readonly NotifyTarget[], notice: JobNotice): Promise<string[]> {
  const body = JSON.stringify(notice);
  const sent = await Promise.allSettled(
    targets.map((t) => (t.kind === 'sns' ? publish(t, notice, body) : post(t.url, body))),
  );
  return sent.flatMap((s, i) => {
    if (s.status === 'fulfilled') return [];
    const t = targets[i] as NotifyTarget;
    const where = t.kind === 'sns' ? `sns:${t.topicArn}` : redacted(t.url);
    const why = s.reason instanceof Error ? s.reason.message : String(s.reason);
    return [`could not notify ${where}: ${why}`];
  });
}

/** Publishes to the topic, in its own region; the SDK honours `AWS_ENDPOINT_URL_SNS`. */
async function publish(t: NotifyTarget & { kind: 'sns' }, notice: JobNotice, body: string): Promise<void> {
  // Loaded here: runs that notify no topic never load the SNS client.
  const { SNSClient, PublishCommand } = await import('@aws-sdk/client-sns');
  const client = new SNSClient({ region: t.region, maxAttempts: WEBHOOK_ATTEMPTS });
  try {
    await client.send(
      new PublishCommand({
        TopicArn: t.topicArn,
        Subject: subjectOf(notice),
        Message: body,
        ...(t.topicArn.endsWith('.fifo') && { MessageGroupId: notice.name }),
      }),
    );
  } finally {
    client.destroy();
  }
}

/** An e-mail subscriber's subject line: ASCII, one line, at most 100 characters. */
function subjectOf(n: JobNotice): string {
  const what =
    n.event === 'job-succeeded' ? 'succeeded' : n.event === 'job-failed' ? 'failed' : 'was cancelled';
  const name = n.name.replace(/[^\x20-\x7e]/g, '?');
  return `Fanout job ${name} ${what}`.slice(0, 100);
}

/**
 * POSTs the notice; a network error, a timeout, a 429 or a 5xx is tried again (3 attempts in all,
 * backing off), any other answer but 2xx is final.
 */
async function post(url: URL, body: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let why: string;
    let retry: boolean;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'fanout' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (res.ok) return;
      why = `HTTP ${res.status}`;
      retry = res.status === 429 || res.status >= 500;
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      why = err instanceof Error ? `${err.message}${cause ? ` (${cause})` : ''}` : String(err);
      retry = true;
    }
    if (!retry || attempt === WEBHOOK_ATTEMPTS) {
      throw new Error(attempt === 1 ? why : `${why} after ${attempt} attempts`);
    }
    await sleep(RETRY_BASE_MS + backoffMs(attempt, RETRY_BASE_MS, 4 * RETRY_BASE_MS));
  }
}

/** A URL as it may be printed: no user, password or query (where webhook tokens are kept). */
function redacted(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
