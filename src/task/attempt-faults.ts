import { FanoutError, ThrottledError } from '../errors.js';
import { type FaultCounts, type FaultKind, type FaultSite, faultPlan } from './faults.js';

/**
 * The attempt this thread is running, for the faults injected inside it. One attempt runs at a time
 * in a worker thread or a Lambda function (and in the inline invoker, whose concurrency is 1), so one
 * module-level record is enough and costs nothing when faults are off.
 */
let current: { scope: string; counts: FaultCounts } | undefined;

/** The sites task code decides at; `invoke` is the driver's. */
const TASK_SITES = ['map', 'merge', 'reduce', 'store.get', 'store.put'] as const;

/**
 * Starts counting the faults of one attempt; `scope` names it, e.g. `s0-m00003#2`, or `s0-m00003#2~1`
 * when invoked again after a throttle (which must draw afresh, or it would be throttled for ever).
 * With `fresh`, the scope's task-side decisions start again from the first: a batch invocation runs
 * once per job, but a warm thread (a Lambda execution environment serves many runs) may have met its
 * scope in an earlier run, and its decisions must depend on the scope alone, not on which thread or
 * environment served what before. The driver's `invoke` draws are left alone.
 */
export function beginAttemptFaults(scope: string, options: { fresh?: boolean } = {}): void {
  if (options.fresh) faultPlan()?.forget(scope, TASK_SITES);
  current = { scope, counts: {} };
}

/** The faults injected in the current attempt so far, or undefined when there were none. */
export function attemptFaults(): FaultCounts | undefined {
  const counts = current?.counts;
  return counts && Object.keys(counts).length > 0 ? { ...counts } : undefined;
}

/** Decides a fault at `site` for the current attempt, and counts it when one is injected. */
export function attemptFault<S extends FaultSite>(site: S): FaultKind<S> | undefined {
  const plan = faultPlan();
  if (!plan || !current) return undefined;
  const kind = plan.decide(site, current.scope);
  if (kind !== undefined) current.counts[`${site}:${kind}`] = (current.counts[`${site}:${kind}`] ?? 0) + 1;
  return kind;
}

/**
 * The error an injected fault raises: retryable, as the transient failure it stands for, and
 * carrying the attempt's fault counts so the driver can report them. `slowdown` and `throttle` are
 * ThrottledErrors, as S3's 503 SlowDown and Lambda's 429 are once the engine sees them.
 */
export function injectedError(
  site: FaultSite,
  kind: string,
  what: string,
  counts?: FaultCounts,
): FanoutError {
  const Type = kind === 'slowdown' || kind === 'throttle' ? ThrottledError : FanoutError;
  const err = new Type(`injected fault ${site}:${kind} (FANOUT_FAULTS) ${what}`, { retryable: true });
  err.faults = counts ?? attemptFaults() ?? { [`${site}:${kind}`]: 1 };
  return err;
}
