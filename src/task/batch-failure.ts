import { toFanoutError } from '../errors.js';
import type { FailedRecord, StreamRecord } from '../stream/types.js';

/** What one processing call came to: the value it returned, or what it threw. */
export type ProcessOutcome = { returned: unknown } | { threw: unknown };

/** The records of a batch that are not done, and why. */
export interface BatchFailure {
  /** Index of the lowest failed record: the records before it are done; it and every later one are retried. */
  readonly from: number;
  /**
   * Why each record that failed in its own right failed, by sequence number, in batch order: the
   * reported ones, or every record from `from` on when the whole batch failed.
   */
  readonly reasons: ReadonlyMap<string, string>;
}

/** The reason a record reported without one gets in its dead letter. */
export const NO_REASON = 'process reported it as failed without a reason';

/**
 * Turns what `process` returned or threw into the failed records of its batch, with Lambda's
 * ReportBatchItemFailures rules: a throw fails every record (with the thrown message); `{ failed }`
 * fails from its lowest entry on; an entry that is malformed or not in the batch fails the whole
 * batch, since the records it meant cannot be told. Anything else (undefined, an empty list, a value
 * that is not an object) is success. Every caller decides through this one function: the batch
 * runner, the window folder and the invoker, in the consumer and in the runtime alike.
 * @returns undefined when every record succeeded.
 */
export function batchFailure(batch: readonly StreamRecord[], outcome: { threw: unknown }): BatchFailure;
export function batchFailure(
  batch: readonly StreamRecord[],
  outcome: ProcessOutcome,
): BatchFailure | undefined;
export function batchFailure(
  batch: readonly StreamRecord[],
  outcome: ProcessOutcome,
): BatchFailure | undefined {
  if ('threw' in outcome) return whole(batch, toFanoutError(outcome.threw).message);
  const result = outcome.returned;
  if (typeof result !== 'object' || result === null) return undefined;
  const failed = (result as { failed?: unknown }).failed;
  if (failed === undefined || failed === null) return undefined;
  if (!Array.isArray(failed)) {
    return whole(batch, `process returned failed: ${shown(failed)}, not a list: the whole batch failed`);
  }
  if (failed.length === 0) return undefined;
  const reported = new Map<string, string>();
  for (const entry of failed) {
    const one = entryOf(entry);
    if (one === undefined) {
      return whole(batch, `process reported ${shown(entry)}, not a sequence number: the whole batch failed`);
    }
    if (!reported.has(one.sequenceNumber)) reported.set(one.sequenceNumber, one.error);
  }
  const from = batch.findIndex((r) => reported.has(r.sequenceNumber));
  const inBatch = batch.reduce((n, r) => n + (reported.has(r.sequenceNumber) ? 1 : 0), 0);
  if (inBatch < reported.size) {
    const seen = new Set(batch.map((r) => r.sequenceNumber));
    const stranger = [...reported.keys()].find((s) => !seen.has(s));
    return whole(
      batch,
      `process reported sequence number ${stranger}, which is not in this batch: the whole batch failed`,
    );
  }
  const reasons = new Map<string, string>();
  for (const r of batch.slice(from)) {
    const reason = reported.get(r.sequenceNumber);
    if (reason !== undefined) reasons.set(r.sequenceNumber, reason);
  }
  return { from, reasons };
}

/**
 * Why a record at or after `from` is not done, for its dead letter: its own reason, or, for a record
 * held back only because one before it failed, that record's.
 */
export function reasonOf(f: BatchFailure, batch: readonly StreamRecord[], record: StreamRecord): string {
  const own = f.reasons.get(record.sequenceNumber);
  if (own !== undefined) return own;
  const lowest = (batch[f.from] as StreamRecord).sequenceNumber;
  return `held back by record ${lowest} before it, which failed: ${f.reasons.get(lowest) ?? NO_REASON}`;
}

/** The failure as plain data, for a task result that crosses a thread or Lambda: `batchFailure` reads it back as it was. */
export function failedRecords(f: BatchFailure): Required<FailedRecord>[] {
  return [...f.reasons].map(([sequenceNumber, error]) => ({ sequenceNumber, error }));
}

function whole(batch: readonly StreamRecord[], reason: string): BatchFailure {
  return { from: 0, reasons: new Map(batch.map((r) => [r.sequenceNumber, reason])) };
}

/** One `failed` entry: a sequence number, or `{ sequenceNumber, error? }`; undefined when malformed. */
function entryOf(entry: unknown): { sequenceNumber: string; error: string } | undefined {
  if (typeof entry === 'string')
    return entry === '' ? undefined : { sequenceNumber: entry, error: NO_REASON };
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { sequenceNumber, error } = entry as { sequenceNumber?: unknown; error?: unknown };
  if (typeof sequenceNumber !== 'string' || sequenceNumber === '') return undefined;
  return { sequenceNumber, error: reasonText(error) };
}

/** A reason as given: a string, an Error's message, anything else as JSON; none at all says so. */
function reasonText(error: unknown): string {
  if (error === undefined || error === null || error === '') return NO_REASON;
  if (typeof error === 'string') return error;
  if (error instanceof Error) return error.message;
  return shown(error);
}

function shown(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
