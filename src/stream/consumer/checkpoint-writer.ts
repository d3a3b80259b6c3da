import type { Checkpoint } from './checkpoints.js';

type Snapshot = Omit<Checkpoint, 'updatedAt' | 'ended'>;

/**
 * Writes one shard's checkpoints one at a time, each with the progress as it is when the write
 * starts, so a slow store never reorders them and a burst of settled batches costs one write.
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
      await this.write({ ...this.snapshot(), ended });
    });
    this.#chain = next.catch(this.onFailure);
    return next;
  }
}
