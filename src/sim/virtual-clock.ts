import { setImmediate as realImmediate } from 'node:timers';

/** A timer as the code under the clock sees it: what Node's timers offer that the engine uses. */
class VirtualTimer {
  constructor(
    readonly id: number,
    public at: number,
    readonly fn: () => void,
    readonly every: number | undefined,
  ) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

type Globals = Pick<
  typeof globalThis,
  'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval' | 'Date'
> & { performanceNow: () => number };

/**
 * Virtual time for a simulation: while `run` runs a function, `setTimeout`, `setInterval`, `Date`
 * and `performance.now` of this thread follow a clock that jumps to the next timer whenever the
 * code has nothing else to do (no promise job left and a turn of the real event loop taken). The
 * driver, its scheduler and the simulated functions then run their real code, timeouts and
 * backoffs included, a simulated hour passing in seconds. Real I/O still happens in real time and
 * takes no virtual time: code under the clock should only await timers and in-memory work.
 */
export class VirtualClock {
  #now: number;
  #seq = 0;
  /** Pending timers as a binary min-heap on (at, id): those due at once fire in the order set. */
  readonly #heap: VirtualTimer[] = [];
  readonly #live = new Map<number, VirtualTimer>();
  #saved: Globals | undefined;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#add(resolve, ms, undefined));
  }

  /** Resolves at virtual time `t` (at once if it has passed). */
  until(t: number): Promise<void> {
    return this.sleep(Math.max(0, t - this.#now));
  }

  /** Timers pending. */
  get pending(): number {
    return this.#live.size;
  }

  /**
   * Runs `fn` under the clock: the globals are swapped for the clock's while it runs, and time
   * advances whenever `fn`'s work waits only on timers. Timers still pending when it settles are
   * dropped (an interval it forgot to clear would otherwise hold the simulation forever).
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.#install();
    let settled = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    fn().then(
      (v) => {
        settled = true;
        value = v;
      },
      (e: unknown) => {
        settled = true;
        failed = true;
        error = e;
      },
    );
    try {
      let idleTurns = 0;
      while (!settled) {
        await new Promise<void>((r) => realImmediate(r));
        if (settled) break;
        const next = this.#heap[0];
        if (next === undefined) {
          // Nothing scheduled: the code waits on real I/O (or on nothing, which would hang). Give
          // the real event loop time, briefly, without spinning a core.
          if (++idleTurns > 1000) await new Promise<void>((r) => realTimeout(r, 1));
          continue;
        }
        idleTurns = 0;
        this.#fireNext();
      }
    } finally {
      this.#uninstall();
      this.#heap.length = 0;
      this.#live.clear();
    }
    if (failed) throw error;
    return value as T;
  }

  /** Advances to the earliest timer and fires every timer due then, in the order they were set. */
  #fireNext(): void {
    const first = this.#heap[0];
    if (!first) return;
    this.#now = Math.max(this.#now, first.at);
    while (this.#heap.length > 0 && (this.#heap[0] as VirtualTimer).at <= this.#now) {
      const t = this.#pop();
      if (this.#live.get(t.id) !== t) continue;
      if (t.every !== undefined) {
        t.at = this.#now + t.every;
        this.#push(t);
      } else {
        this.#live.delete(t.id);
      }
      t.fn();
    }
  }

  #add(fn: () => void, ms: number, every: number | undefined): VirtualTimer {
    const delay = Math.max(0, Number.isFinite(ms) ? ms : 0);
    const t = new VirtualTimer(
      ++this.#seq,
      this.#now + delay,
      fn,
      every === undefined ? undefined : Math.max(1, delay),
    );
    this.#live.set(t.id, t);
    this.#push(t);
    return t;
  }

  #clear(t: unknown): void {
    if (t === undefined || t === null) return;
    const id = t instanceof VirtualTimer ? t.id : Number(t);
    // Removed lazily from the heap: a cleared timer is skipped when it comes up.
    this.#live.delete(id);
  }

  #install(): void {
    if (this.#saved) throw new Error('the virtual clock is already running');
    const g = globalThis as typeof globalThis & Record<string, unknown>;
    this.#saved = {
      setTimeout: g.setTimeout,
      clearTimeout: g.clearTimeout,
      setInterval: g.setInterval,
      clearInterval: g.clearInterval,
      Date: g.Date,
      performanceNow: performance.now.bind(performance),
    };
    const clock = this;
    const RealDate = g.Date;
    const origin = this.#now;
    g.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      clock.#add(() => fn(...args), ms ?? 0, undefined)) as unknown as typeof setTimeout;
    g.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      clock.#add(() => fn(...args), ms ?? 0, ms ?? 0)) as unknown as typeof setInterval;
    g.clearTimeout = ((t: unknown) => clock.#clear(t)) as typeof clearTimeout;
    g.clearInterval = ((t: unknown) => clock.#clear(t)) as typeof clearInterval;
    // `new Date()` and `Date.now()` read the clock; every other use of Date is the real one.
    const VirtualDate = function (this: unknown, ...args: unknown[]) {
      if (!new.target) return new RealDate(clock.#now).toString();
      return args.length === 0
        ? new RealDate(clock.#now)
        : new RealDate(...(args as ConstructorParameters<typeof Date>));
    } as unknown as DateConstructor;
    Object.setPrototypeOf(VirtualDate, RealDate);
    Object.defineProperty(VirtualDate, 'prototype', { value: RealDate.prototype });
    VirtualDate.now = () => clock.#now;
    g.Date = VirtualDate;
    performance.now = () => clock.#now - origin;
  }

  #uninstall(): void {
    const s = this.#saved;
    if (!s) return;
    const g = globalThis as typeof globalThis & Record<string, unknown>;
    g.setTimeout = s.setTimeout;
    g.clearTimeout = s.clearTimeout;
    g.setInterval = s.setInterval;
    g.clearInterval = s.clearInterval;
    g.Date = s.Date;
    performance.now = s.performanceNow;
    this.#saved = undefined;
  }

  #push(t: VirtualTimer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, h[p] as VirtualTimer)) break;
      h[i] = h[p] as VirtualTimer;
      i = p;
    }
    h[i] = t;
  }

  #pop(): VirtualTimer {
    const h = this.#heap;
    const top = h[0] as VirtualTimer;
    const last = h.pop() as VirtualTimer;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(h[c + 1] as VirtualTimer, h[c] as VirtualTimer)) c++;
        if (!before(h[c] as VirtualTimer, last)) break;
        h[i] = h[c] as VirtualTimer;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

const before = (a: VirtualTimer, b: VirtualTimer) => a.at < b.at || (a.at === b.at && a.id < b.id);

/** The real setTimeout, captured before any clock runs. */
const realTimeout = globalThis.setTimeout;
