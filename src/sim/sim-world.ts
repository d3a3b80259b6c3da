import { UsageError } from '../errors.js';
import type { PlanModel } from './cloud-model.js';
import { VirtualClock } from './virtual-clock.js';

/** An object of the simulated S3: bytes the driver wrote, or only a size (data a task "wrote"). */
export interface SimObject {
  size: number;
  /** Absent for data the simulation only sized: reads of it give zeros. */
  body?: Uint8Array;
  /** Changes with every write, as an ETag does. */
  version: number;
}

/** S3 request kinds the simulation counts, as S3 bills and limits them. */
export type SimRequest = 'get' | 'put' | 'list' | 'head' | 'delete';

/** What a simulated run asked of S3 and Lambda, counted as it happened. */
export interface SimCounts {
  requests: Record<SimRequest, number>;
  /** Requests S3 answered with 503 SlowDown (a per-prefix rate passed), each retried or failed. */
  slowDowns: number;
  /** Invocations Lambda refused with 429 (account concurrency, or the scaling rate). */
  throttles: number;
  /** Function environments started (each paid a cold start). */
  coldStarts: number;
  /** Attempts the simulation failed on purpose (`failureRate`) or that ran past the timeout. */
  failures: number;
  /** Attempts made slow on purpose (`stragglerRate`). */
  stragglers: number;
  /** Most functions running at once. */
  peakConcurrency: number;
}

/**
 * The simulated cloud of one `mr plan --simulate` run: a virtual clock, an S3 (objects, request
 * counts, per-prefix request rates) and the model its Lambda follows. The simulated store
 * (`sim://` locations, SimStore) and the simulated functions (SimInvoker) both act on the world
 * current while the simulation runs.
 */
export class SimWorld {
  readonly clock = new VirtualClock();
  readonly objects = new Map<string, SimObject>();
  readonly counts: SimCounts = {
    requests: { get: 0, put: 0, list: 0, head: 0, delete: 0 },
    slowDowns: 0,
    throttles: 0,
    coldStarts: 0,
    failures: 0,
    stragglers: 0,
    peakConcurrency: 0,
  };
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #versions = 0;
  #random: () => number;

  constructor(
    readonly model: PlanModel,
    /** The simulated function's size and architecture. */
    readonly memoryMb: number,
    readonly arch: 'arm64' | 'x86_64',
    seed = 1,
  ) {
    this.#random = mulberry32(seed);
  }

  /** A number in [0, 1) from the world's seeded generator: runs with one seed repeat exactly. */
  random(): number {
    return this.#random();
  }

  /** Stores an object (bytes, or only a size) under a full key (`<root>/<key>`). */
  put(key: string, size: number, body?: Uint8Array): void {
    this.objects.set(key, { size, version: ++this.#versions, ...(body && { body }) });
  }

  /**
   * Admits one request to S3 now, or answers that the key's prefix is past its rate (503 SlowDown):
   * a token bucket per prefix (the key up to its last `/`) and kind, refilled at the model's rate and
   * holding one second's worth.
   */
  admit(kind: 'get' | 'put', key: string): boolean {
    const rate = kind === 'get' ? this.model.getsPerSecond : this.model.putsPerSecond;
    this.counts.requests[kind]++;
    if (!Number.isFinite(rate)) return true;
    const id = `${kind} ${key.slice(0, key.lastIndexOf('/') + 1)}`;
    const now = this.clock.now();
    const b = this.#buckets.get(id) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.#buckets.set(id, b);
    if (b.tokens < 1) {
      this.counts.slowDowns++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}

let current: SimWorld | undefined;

/** Makes `world` the one `sim://` locations and the sim backend act on (undefined: none). */
export function useWorld(world: SimWorld | undefined): void {
  current = world;
}

/** The world of the simulation running. @throws {UsageError} when none runs. */
export function currentWorld(): SimWorld {
  if (!current) {
    throw new UsageError(
      'the simulated backend and sim:// locations exist only inside a simulation: run mr plan --simulate',
    );
  }
  return current;
}

/** A small seeded generator (mulberry32): the same seed, the same simulation. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
