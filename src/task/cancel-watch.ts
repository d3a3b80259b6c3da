import { JobCancelledError } from '../errors.js';
import { openStore } from '../store/open-store.js';

/** How often a running task looks for its job's cancel marker. */
export const CANCEL_POLL_MS = 2000;

/** A running task's look-out for its job's cancel marker. */
export interface CancelWatch {
  /** Throws JobCancelledError once the marker has been seen; cheap enough for every batch. */
  check(): void;
  stop(): void;
}

/**
 * Looks for the cancel marker in the background, every CANCEL_POLL_MS, so a check between batches
 * costs a flag test: a function on Lambda stops within seconds of `mr cancel` or Ctrl-C instead of
 * running to its end, where nothing would use its output.
 */
export function watchCancel(cancel: { store: string; key: string } | undefined): CancelWatch {
  if (!cancel) return { check() {}, stop() {} };
  const store = openStore(cancel.store);
  let seen = false;
  const timer = setInterval(() => {
    store.head(cancel.key).then(
      (found) => {
        if (found) seen = true;
      },
      () => {}, // a failed look is no answer; the next one may pass
    );
  }, CANCEL_POLL_MS);
  timer.unref();
  return {
    check() {
      if (seen) throw new JobCancelledError('the job was cancelled', { retryable: false });
    },
    stop() {
      clearInterval(timer);
    },
  };
}
