import { FanoutError } from '../../errors.js';
import type { FaultCounts } from '../../task/faults.js';

/** One shard's figures in a metrics event. */
export interface ShardMetrics {
  shardId: string;
  /** MillisBehindLatest of the last read: the iterator age. */
  millisBehind: number | undefined;
  inFlight: number;
  records: number;
  /** Ordered lanes (batches at once) the shard runs with now. */
  lanes: number;
}

/** Figures the consumer reports every few seconds. */
export interface StreamMetrics {
  at: Date;
  /** Records read per second since the last metrics event. */
  recordsPerSecond: number;
  /** Records read since the consumer started. */
  records: number;
  inFlight: number;
  retries: number;
  deadLetters: number;
  throttles: number;
  /** Faults injected so far by `site:kind`, when FANOUT_FAULTS is set. */
  faults?: FaultCounts;
  shards: ShardMetrics[];
}

/** A shard's checkpoint was written. */
export interface CheckpointEvent {
  shardId: string;
  sequenceNumber: string | undefined;
  ended: boolean;
}

/** Events of a running consumer and what each listener receives. */
export interface StreamEvents {
  metrics: StreamMetrics;
  error: FanoutError;
  checkpoint: CheckpointEvent;
}

/** Typed listeners; a throwing listener is reported as an 'error' and never reaches the poll loop. */
export class StreamEmitter {
  #listeners = new Map<keyof StreamEvents, Set<(value: never) => void>>();

  on<E extends keyof StreamEvents>(event: E, listener: (value: StreamEvents[E]) => void): void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (value: never) => void);
  }

  emit<E extends keyof StreamEvents>(event: E, value: StreamEvents[E]): void {
    const set = this.#listeners.get(event);
    if (event === 'error' && (!set || set.size === 0)) {
      // Nobody listens for errors: say so on stderr rather than lose them.
      process.stderr.write(`fanout stream: ${(value as FanoutError).message}\n`);
      return;
    }
    for (const listener of set ?? []) {
      try {
        (listener as (v: StreamEvents[E]) => void)(value);
      } catch (err) {
        if (event === 'error') {
          process.stderr.write(`fanout stream: an 'error' listener threw: ${String(err)}\n`);
        } else {
          this.emit('error', listenerError(event, err));
        }
      }
    }
  }
}

function listenerError(event: string, err: unknown): FanoutError {
  const message = err instanceof Error ? err.message : String(err);
  return new FanoutError(`a '${event}' listener threw: ${message}`, { cause: err });
}
