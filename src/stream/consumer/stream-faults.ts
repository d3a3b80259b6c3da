import { injectedError } from '../../task/attempt-faults.js';
import { type FaultCounts, type FaultPlan, faultPlan } from '../../task/faults.js';
import type { ProcessBatch } from './batch-runner.js';

/** The consumer's own fault sites (see FAULT_KINDS); each knows one kind. */
type StreamSite = 'stream.process' | 'stream.checkpoint' | 'stream.lease';

/**
 * The stream consumer's share of FANOUT_FAULTS: its batches, checkpoints and leases fail on purpose
 * at the plan's rates, so retries, restarts from checkpoints and lease expiry run in tests. The
 * consumer is one long-running process rather than task attempts, so a decision is scoped by what
 * it concerns (a batch attempt, a shard's checkpoint, a lease) and counted here for the metrics.
 */
export class StreamFaults {
  readonly counts: FaultCounts = {};
  readonly #plan: FaultPlan | null;

  constructor(plan: FaultPlan | null = faultPlan()) {
    this.#plan = plan;
  }

  /**
   * Throws the injected error when the plan decides a fault at `site` for this decision of `scope`.
   * @throws {FanoutError} retryable, as the transient failure it stands for.
   */
  check(site: StreamSite, scope: string, what: string): void {
    const kind = this.#plan?.decide(site, scope);
    if (kind === undefined) return;
    const key = `${site}:${kind}`;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    throw injectedError(site, kind, what, { [key]: 1 });
  }

  /** A ProcessBatch that fails at the `stream.process` rate before `inner` sees the batch. */
  aroundProcess(inner: ProcessBatch, shardId: string): ProcessBatch {
    if (!this.#plan?.names('stream.process')) return inner;
    return async (records, attempt) => {
      const first = records[0]?.sequenceNumber ?? 'empty';
      this.check('stream.process', `${shardId}/${first}#${attempt}`, `processing ${shardId} from ${first}`);
      return inner(records, attempt);
    };
  }

  /** Whether any fault is injected, or has been. */
  get any(): boolean {
    return Object.keys(this.counts).length > 0;
  }
}
