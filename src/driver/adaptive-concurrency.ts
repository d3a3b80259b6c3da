/**
 * Additive-increase, multiplicative-decrease control of tasks in flight, as TCP does for packets:
 * a throttle answer (Lambda 429, S3 503 SlowDown) halves the limit, and every `limit` successes in a
 * row add one back, up to the configured maximum. One burst of throttles cuts the limit once: cuts
 * are spaced by at least `cooldownMs`, since throttles already in flight describe the old limit.
 */
export class AdaptiveConcurrency {
  readonly max: number;
  #limit: number;
  #successes = 0;
  #lastCut = Number.NEGATIVE_INFINITY;
  readonly #cooldownMs: number;
  readonly #onChange: ((limit: number, reason: 'throttled' | 'recovered') => void) | undefined;

  constructor(
    max: number,
    options: {
      cooldownMs?: number;
      onChange?: (limit: number, reason: 'throttled' | 'recovered') => void;
    } = {},
  ) {
    this.max = Math.max(1, max);
    this.#limit = this.max;
    this.#cooldownMs = options.cooldownMs ?? 1000;
    this.#onChange = options.onChange;
  }

  get limit(): number {
    return this.#limit;
  }

  throttled(now = Date.now()): void {
    this.#successes = 0;
    if (now - this.#lastCut < this.#cooldownMs || this.#limit === 1) return;
    this.#lastCut = now;
    this.#limit = Math.max(1, Math.floor(this.#limit / 2));
    this.#onChange?.(this.#limit, 'throttled');
  }

  succeeded(): void {
    if (this.#limit >= this.max) return;
    if (++this.#successes < this.#limit) return;
    this.#successes = 0;
    this.#limit++;
    this.#onChange?.(this.#limit, 'recovered');
  }
}
