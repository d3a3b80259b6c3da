import { backoffMs, sleep } from '../../backoff.js';
import type { Checkpoint } from './checkpoints.js';

type Snapshot = Omit<Checkpoint, 'updatedAt' | 'ended'>;

/** Tries of one checkpoint write before the shard fails (and restarts from its last checkpoint). */
const WRITE_TRIES = 6;
const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 2000;

/**
 * Writes one shard's checkpoints one at a time, each with the progress as it is when the write
 * starts, so a slow store never reorders them and a burst of settled batches costs one write. A
 * failed write is tried again, with backoff and the progress as it is then, before it counts as the
 * shard's failure: a checkpoint only ever names records already settled, so a late one skips nothing.
 */
export class CheckpointWriter {
  #chain: Promise<void> = Promise.resolve();
  /** A write is waiting to start: it will pick up the latest progress, so no second one is queued. */
  #queued = false;

  constructor(
    private readonly snapshot: () => Snapshot,
    private readonly write: (c: Omit<Checkpoint, 'updatedAt'>) => Promise<void>,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Writes soon, in the background; a failure goes to `onFailure`. */
  schedule(): void {
    if (this.#queued) return;
    this.#queued = true;
    // The failure is handed to onFailure by the chain below; nothing is lost here.
    this.now(false).catch(() => {});
  }

  /** Writes after any write in progress, and resolves when this one is stored. */
  now(ended: boolean): Promise<void> {
    const next = this.#chain.then(async () => {
      this.#queued = false;
      for (let tries = 1; ; tries++) {
        try {
          await this.write({ ...this.snapshot(), ended });
          return;
        } catch (err) {
          if (tries >= WRITE_TRIES || !isRetryable(err)) throw err;
          await sleep(backoffMs(tries, RETRY_BASE_MS, RETRY_CAP_MS));
        }
      }
    });
    this.#chain = next.catch(this.onFailure);
    return next;
  }
}

/** Store errors are retryable unless they say otherwise (an access denied, a missing bucket). */
function isRetryable(err: unknown): boolean {
  return !(err instanceof Error && 'retryable' in err && err.retryable === false);
}
