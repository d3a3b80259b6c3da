import { backoffMs, sleep } from '../../backoff.js';
import { WindowStateTooLargeError } from '../../errors.js';
import { type BatchFailure, batchFailure, reasonOf } from '../../task/batch-failure.js';
import type { BatchResult, StreamRecord } from '../types.js';
import { type DeadLetterSink, deadLetterOf } from './dead-letters.js';

/** Runs one processing call: in this thread, a worker, or Lambda. */
export type ProcessBatch = (records: StreamRecord[], attempt: number) => Promise<BatchResult | undefined>;

/** The failure policy of a stream job, and where its dead letters go. */
export interface BatchPolicy {
  job: string;
  stream: string;
  maxRetries: number;
  maxRecordAgeMs: number;
  bisectOnError: boolean;
  deadLetters: DeadLetterSink;
  /** First retry delay; later ones double, with jitter, up to `retryCapMs`. */
  retryBaseMs: number;
  retryCapMs: number;
  /** Abandons retries: records not yet done stay unchecked and are read again after a restart. */
  signal?: AbortSignal;
  /** Called as records are settled (processed or dead-lettered), in order. */
  onDone(records: StreamRecord[]): void;
  onRetry?(records: StreamRecord[], error: string): void;
  onDeadLetter?(record: StreamRecord): void;
}

/**
 * Processes one batch with Lambda's Kinesis failure semantics: a thrown error retries the batch (or,
 * with bisect, halves it until the failing record is alone); a returned `failed` list settles what
 * comes before its lowest entry and retries from there (see batchFailure); past maxRetries or
 * maxRecordAgeMs a record goes to the dead-letter sink, with the reason its last attempt failed, and
 * the batch moves on. Records are settled strictly in order.
 * @throws {DeadLetterError} when the sink refuses a record: nothing at or after it is settled.
 * @throws {WindowStateTooLargeError} when a window's state outgrows its limit.
 */
export async function runBatch(
  records: StreamRecord[],
  process: ProcessBatch,
  policy: BatchPolicy,
): Promise<void> {
  const attempts = new Map<string, number>();
  await settle(records, process, policy, attempts);
}

async function settle(
  segment: StreamRecord[],
  process: ProcessBatch,
  p: BatchPolicy,
  attempts: Map<string, number>,
): Promise<void> {
  let pending = segment;
  while (pending.length > 0) {
    if (p.signal?.aborted) return;
    const first = pending[0] as StreamRecord;
    const attempt = (attempts.get(first.sequenceNumber) ?? 0) + 1;
    let failure: BatchFailure | undefined;
    try {
      failure = batchFailure(pending, { returned: await process(pending, attempt) });
    } catch (err) {
      // The consumer's own limits are not the record's fault: dead-lettering would hide them.
      if (err instanceof WindowStateTooLargeError) throw err;
      failure = batchFailure(pending, { threw: err });
    }
    if (!failure) {
      p.onDone(pending);
      return;
    }
    const failedAt = failure.from;
    if (failedAt > 0) p.onDone(pending.slice(0, failedAt));
    const rest = pending.slice(failedAt);
    // Halving does not count as a retry (as with Lambda): it only narrows down the poison record.
    if (p.bisectOnError && rest.length > 1) {
      const half = Math.ceil(rest.length / 2);
      await settle(rest.slice(0, half), process, p, attempts);
      if (p.signal?.aborted) return;
      await settle(rest.slice(half), process, p, attempts);
      return;
    }
    for (const r of rest) attempts.set(r.sequenceNumber, (attempts.get(r.sequenceNumber) ?? 0) + 1);
    // Counted on the lowest failed record, not on the batch's first: after a partial failure that
    // one is done, and counting it would give a failed record one try more than maxRetries allows.
    const tries = attempts.get((rest[0] as StreamRecord).sequenceNumber) ?? 0;
    const expired =
      p.maxRecordAgeMs >= 0 && rest.some((r) => Date.now() - r.arrivedAt.getTime() > p.maxRecordAgeMs);
    if ((p.maxRetries >= 0 && tries > p.maxRetries) || expired) {
      for (const r of rest) {
        await p.deadLetters.send(
          deadLetterOf(
            p.job,
            p.stream,
            r,
            reasonOf(failure, pending, r),
            attempts.get(r.sequenceNumber) ?? tries,
          ),
        );
        p.onDeadLetter?.(r);
        p.onDone([r]);
      }
      return;
    }
    p.onRetry?.(rest, reasonOf(failure, pending, rest[0] as StreamRecord));
    await sleep(backoffMs(tries, p.retryBaseMs, p.retryCapMs), p.signal);
    pending = rest;
  }
}
