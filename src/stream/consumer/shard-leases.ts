import { FanoutError, UsageError } from '../../errors.js';
import type { ObjectStore, PutCondition } from '../../store/object-store.js';
import type { StreamFaults } from './stream-faults.js';

/** What is stored per shard, as JSON, at `<prefix><shardId>.json`. */
export interface ShardLease {
  shardId: string;
  /** Consumer holding the lease; unique per running consumer process. */
  owner: string;
  /** Epoch ms after which the lease is free to take; 0 when released. */
  expiresAt: number;
  /** Bumped on every write, so every write has distinct bytes and therefore a new version. */
  counter: number;
  /** Another consumer asked for this lease (to balance the shards): the owner hands it over. */
  wantedBy?: string;
}

/** How a ShardLeases talks to the store and who it is. */
export interface ShardLeasesOptions {
  store: ObjectStore;
  /** Key prefix of the lease objects, e.g. `streams/clicks/leases/`. */
  prefix: string;
  /** This consumer's id: unique per process, or two processes would share its leases. */
  owner: string;
  /** How long a lease lasts without renewal; renew at a fraction of this (a third, say). @default 10_000 */
  leaseMs?: number;
  /** Clock in epoch ms (tests pass a fake one). @default Date.now */
  now?: () => number;
  /** Injected lease-write failures (FANOUT_FAULTS `stream.lease:error`). */
  faults?: StreamFaults;
}

/** What a renewal found: shards to stop now, and the first store error, if any. */
export interface Renewal {
  /**
   * Shards this consumer must stop processing: lost to another consumer, asked for by one (stop,
   * checkpoint, then `release`), or no longer safely held because renewals keep failing.
   */
  stop: string[];
  error?: unknown;
}

/** A lease this consumer wrote, with the version its next write must replace. */
interface Held {
  lease: ShardLease;
  version: string;
}

/** A lease as read from the store. */
interface Seen {
  shardId: string;
  lease: ShardLease | undefined;
  version: string | undefined;
}

/**
 * Shard leases kept in an ObjectStore with compare-and-swap, so several consumers share a
 * stream's shards without two of them processing one shard at once.
 *
 * The rules that make it safe:
 * - A consumer processes a shard only while the shard is in `owned()`: it holds the lease, has not
 *   been asked for it, and the term it last wrote has at least half a lease left. Past that point
 *   (renewals failing, say) it stops the shard, leaving the rest of the term to finish its in-flight
 *   batches and write the final checkpoint before anyone else may start.
 * - Every write is a `putIf` naming the version read or written before, so of two consumers racing
 *   for a lease exactly one wins; a lease is taken only when free, released or expired.
 * - Balancing never takes a lease from a live owner. The consumer with too few shards asks for one
 *   (`wantedBy`); the owner learns it at its next renewal, stops the shard, checkpoints, and hands
 *   the lease over (a fresh term in the asker's name), which the asker finds at its next `acquire`.
 *   The handoff thus checkpoints first, and the next owner starts where the last one stopped. An
 *   owner that never answers loses the lease when its term ends, having stopped half a term before.
 * Clocks of the consumers must agree to well within `leaseMs`, and a batch must take well under
 * half a lease, or its end may overlap the next owner's start.
 *
 * @example
 * const leases = new ShardLeases({ store, prefix: 'streams/clicks/leases/', owner: randomUUID() });
 * const mine = await leases.acquire(shardIds); // then renew() every leaseMs / 3
 */
export class ShardLeases {
  readonly leaseMs: number;
  readonly #store: ObjectStore;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #now: () => number;
  readonly #faults: StreamFaults | undefined;
  readonly #held = new Map<string, Held>();
  /** acquire, renew and release run one at a time, so they never race on `#held`. */
  #queue: Promise<unknown> = Promise.resolve();

  /** @throws {UsageError} on an empty owner or a lease length that is not a positive integer. */
  constructor(options: ShardLeasesOptions) {
    const { leaseMs = 10_000 } = options;
    if (!Number.isInteger(leaseMs) || leaseMs <= 0) {
      throw new UsageError(`leaseMs must be a positive integer, got ${leaseMs}`);
    }
    if (options.owner === '') throw new UsageError('owner must not be empty');
    this.leaseMs = leaseMs;
    this.#store = options.store;
    this.#prefix = options.prefix;
    this.#owner = options.owner;
    this.#now = options.now ?? Date.now;
    this.#faults = options.faults;
  }

  /** This consumer's id. */
  get owner(): string {
    return this.#owner;
  }

  /** Shards this consumer may process right now, sorted (see the class's rules). */
  owned(): string[] {
    return [...this.#held]
      .filter(([, h]) => this.#safe(h))
      .map(([id]) => id)
      .sort();
  }

  /**
   * Takes free or expired leases among `shardIds`, up to a fair share of ceil(S/N) for N live
   * owners (those holding an unexpired lease, and this one), and asks for at most one lease from an
   * owner holding at least two more than this one, which moves the group towards balance without
   * ever oscillating. Returns `owned()`.
   */
  acquire(shardIds: readonly string[]): Promise<string[]> {
    return this.#serial(async () => {
      const seen = await Promise.all(shardIds.map((id) => this.#read(id)));
      const now = this.#now();
      const live = (s: Seen): s is Seen & { lease: ShardLease } =>
        s.lease !== undefined && s.lease.expiresAt > now;

      // What the store says overrides what we remember: a lease rewritten by someone else is lost.
      for (const s of seen) {
        const h = this.#held.get(s.shardId);
        const ours = s.version !== undefined && s.lease?.owner === this.#owner && live(s);
        if (h && h.version !== s.version) {
          // Rewritten with our name still on it: a handoff request, or our own write whose answer
          // was lost (S3 retried it and got 412). Either way nobody else owns it.
          if (ours && s.lease && s.version) this.#held.set(s.shardId, { lease: s.lease, version: s.version });
          else this.#held.delete(s.shardId);
        } else if (!h && ours && s.lease && s.version) {
          // Ours in the store but not in memory: handed over to us, a write whose answer was lost,
          // or a release that failed. A lease asked for is handed on now; nothing runs on it here.
          const held = { lease: s.lease, version: s.version };
          if (s.lease.wantedBy) await this.#free(s.shardId, held).catch(() => {});
          else this.#held.set(s.shardId, held);
        }
      }

      const counts = new Map<string, number>([[this.#owner, 0]]);
      for (const s of seen) {
        if (live(s)) counts.set(s.lease.owner, (counts.get(s.lease.owner) ?? 0) + 1);
      }
      const share = Math.ceil(shardIds.length / counts.size);
      let mine = counts.get(this.#owner) ?? 0;

      for (const s of seen) {
        if (mine >= share) break;
        if (live(s)) continue;
        // Free, released or expired: its previous owner stopped processing before its term ended.
        if (await this.#take(s)) mine++;
      }

      if (mine < share) {
        const victim = [...counts].sort((a, b) => b[1] - a[1])[0];
        if (victim && victim[0] !== this.#owner && victim[1] >= mine + 2) {
          // Ask for the last of its shards (any would do; a fixed choice keeps askers apart).
          const target = seen.filter((s) => live(s) && s.lease.owner === victim[0]).at(-1);
          if (target?.lease && target.version && target.lease.wantedBy === undefined) {
            await this.#put(
              target.shardId,
              { ...target.lease, counter: target.lease.counter + 1, wantedBy: this.#owner },
              { ifVersion: target.version },
            );
          }
        }
      }
      return this.owned();
    });
  }

  /**
   * Extends every held lease by `leaseMs` with a CAS over the version last written, and says which
   * shards to stop (see Renewal). A lease rewritten by another consumer is dropped; one still naming
   * this consumer (a handoff request) is extended and reported until it is released.
   */
  renew(): Promise<Renewal> {
    return this.#serial(async () => {
      const stop: string[] = [];
      const errors: unknown[] = [];
      await Promise.all(
        [...this.#held].map(async ([shardId, h]) => {
          try {
            const kept = await this.#extend(shardId, h);
            if (!kept) stop.push(shardId);
            else if (kept.lease.wantedBy !== undefined) stop.push(shardId);
          } catch (err) {
            errors.push(err);
            // Keep it while it lasts; stop processing once too little of the term is left.
            if (!this.#safe(h)) stop.push(shardId);
          }
        }),
      );
      return { stop: stop.sort(), ...(errors.length > 0 && { error: errors[0] }) };
    });
  }

  /**
   * Gives a lease back so another consumer may take it at once: to the consumer that asked for it,
   * or to whoever comes first. Call it only after the shard's in-flight work is done and
   * checkpointed. A lease already lost is left alone.
   */
  release(shardId: string): Promise<void> {
    return this.#serial(async () => {
      const h = this.#held.get(shardId);
      if (!h) return;
      // Forget it first: from here on this consumer must not process the shard.
      this.#held.delete(shardId);
      await this.#free(shardId, h);
    });
  }

  /** At least half of the term is left and nobody asked for it: safe to go on processing. */
  #safe(h: Held): boolean {
    return h.lease.wantedBy === undefined && this.#now() + this.leaseMs / 2 <= h.lease.expiresAt;
  }

  /**
   * The renewed lease, or undefined when another consumer owns it now.
   * @throws {FanoutError} when the lease keeps changing under us, or from the store.
   */
  async #extend(shardId: string, h: Held): Promise<Held | undefined> {
    for (let current = h, tries = 0; tries < 3; tries++) {
      const lease = {
        ...current.lease,
        expiresAt: this.#now() + this.leaseMs,
        counter: current.lease.counter + 1,
      };
      const version = await this.#put(shardId, lease, { ifVersion: current.version });
      if (version !== undefined) {
        const next = { lease, version };
        this.#held.set(shardId, next);
        return next;
      }
      // Rewritten since our last write: by a consumer asking for it (our name still on it), or taken.
      const seen = await this.#read(shardId);
      if (seen.lease?.owner !== this.#owner || seen.version === undefined) {
        this.#held.delete(shardId);
        return undefined;
      }
      current = { lease: seen.lease, version: seen.version };
    }
    throw new FanoutError(`the lease of ${shardId} kept changing while it was renewed`, { retryable: true });
  }

  /**
   * Gives up a lease naming this consumer, following rewrites that keep our name: to the consumer
   * that asked for it, as a fresh term in its name, or else as free (expiresAt 0).
   */
  async #free(shardId: string, h: Held): Promise<void> {
    for (let current = h, tries = 0; tries < 3; tries++) {
      const { wantedBy, counter } = current.lease;
      const lease: ShardLease = wantedBy
        ? { shardId, owner: wantedBy, expiresAt: this.#now() + this.leaseMs, counter: counter + 1 }
        : { ...current.lease, expiresAt: 0, counter: counter + 1 };
      if ((await this.#put(shardId, lease, { ifVersion: current.version })) !== undefined) return;
      const seen = await this.#read(shardId);
      if (seen.lease?.owner !== this.#owner || seen.version === undefined) return;
      current = { lease: seen.lease, version: seen.version };
    }
  }

  /** Writes this consumer's lease over a free one by CAS; true when it won. */
  async #take(s: Seen): Promise<boolean> {
    const lease: ShardLease = {
      shardId: s.shardId,
      owner: this.#owner,
      expiresAt: this.#now() + this.leaseMs,
      counter: (s.lease?.counter ?? 0) + 1,
    };
    const condition: PutCondition = s.version === undefined ? { ifAbsent: true } : { ifVersion: s.version };
    const version = await this.#put(s.shardId, lease, condition);
    if (version !== undefined) this.#held.set(s.shardId, { lease, version });
    return version !== undefined;
  }

  /** One conditional write of a lease: its new version, or undefined when the condition failed. */
  async #put(shardId: string, lease: ShardLease, condition: PutCondition): Promise<string | undefined> {
    this.#faults?.check('stream.lease', shardId, `writing the lease of ${shardId}`);
    const result = await this.#store.putIf(this.#key(shardId), JSON.stringify(lease), condition);
    return result.ok ? result.version : undefined;
  }

  async #read(shardId: string): Promise<Seen> {
    const got = await this.#store.getVersioned(this.#key(shardId));
    if (!got) return { shardId, lease: undefined, version: undefined };
    return { shardId, lease: parseLease(got.body, shardId), version: got.version };
  }

  #key(shardId: string): string {
    return `${this.#prefix}${encodeURIComponent(shardId)}.json`;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/**
 * Decodes a stored lease. Unreadable bytes count as a free lease with no owner: overwriting them
 * by CAS is safe, and refusing would block the shard forever.
 */
function parseLease(body: Uint8Array, shardId: string): ShardLease {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    v = undefined;
  }
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  return {
    shardId,
    owner: typeof o.owner === 'string' ? o.owner : '',
    expiresAt: typeof o.expiresAt === 'number' ? o.expiresAt : 0,
    counter: typeof o.counter === 'number' ? o.counter : 0,
    ...(typeof o.wantedBy === 'string' && { wantedBy: o.wantedBy }),
  };
}
