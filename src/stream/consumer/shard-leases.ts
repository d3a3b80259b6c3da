import { UsageError } from '../../errors.js';
import type { ObjectStore, PutCondition } from '../../store/object-store.js';

/** What is stored per shard, as JSON, at `<prefix><shardId>.json`. */
export interface ShardLease {
  shardId: string;
  /** Consumer holding the lease; unique per running consumer process. */
  owner: string;
  /** Epoch ms after which the lease is free to take; 0 when released. */
  expiresAt: number;
  /** Bumped on every write, so every write has distinct bytes and therefore a new version. */
  counter: number;
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
}

/** A lease this consumer wrote, with the version its next write must replace. */
interface Held {
  lease: ShardLease;
  version: string;
  /** Not before this time: a stolen lease waits out its previous owner's term. */
  usableAt: number;
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
 * The rule that makes it safe: a consumer processes a shard only while the shard is in `owned()`,
 * i.e. while the lease it last wrote is unexpired. Every write is a `putIf` naming the version
 * read or written before, so of two consumers racing for a lease exactly one wins, and a
 * consumer whose lease was taken learns it on its next `renew` (its CAS fails). Taking a lease
 * over, whether expired or stolen, never overlaps its previous owner's term: an expired lease's
 * term is over, and a stolen lease becomes usable only when the term its owner last wrote ends.
 * Clocks of the consumers must agree to well within `leaseMs`.
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
  }

  /** This consumer's id. */
  get owner(): string {
    return this.#owner;
  }

  /** Shards this consumer may process right now, sorted. */
  owned(): string[] {
    const now = this.#now();
    return [...this.#held]
      .filter(([, h]) => h.usableAt <= now && now < h.lease.expiresAt)
      .map(([id]) => id)
      .sort();
  }

  /**
   * Takes free or expired leases among `shardIds`, up to a fair share of ceil(S/N) for N live
   * owners (those holding an unexpired lease, and this one), and steals at most one lease from an
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
        if (h && h.version !== s.version) this.#held.delete(s.shardId);
        // Ours in the store but not in memory: a write whose answer was lost (S3 retried it and
        // got 412). The bytes name us, so nobody else wrote since.
        if (!h && s.version !== undefined && s.lease?.owner === this.#owner && live(s)) {
          this.#held.set(s.shardId, { lease: s.lease, version: s.version, usableAt: now });
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
        // Free, released or expired: its previous owner stopped processing when its term ended.
        if (await this.#write(s, now)) mine++;
      }

      if (mine < share) {
        const victim = [...counts].sort((a, b) => b[1] - a[1])[0];
        if (victim && victim[0] !== this.#owner && victim[1] >= mine + 2) {
          // Steal the last of its shards (any would do; a fixed choice keeps thieves apart).
          const target = seen.filter((s) => live(s) && s.lease.owner === victim[0]).at(-1);
          // The victim may process until the term it last wrote ends; we start only then.
          if (target?.lease) await this.#write(target, target.lease.expiresAt);
        }
      }
      return this.owned();
    });
  }

  /**
   * Extends every held lease by `leaseMs` with a CAS over the version last written. A failed CAS
   * means another consumer took the lease: it is dropped (stop processing that shard).
   * Returns the shards lost.
   *
   * @throws {FanoutError} from the store; leases it could not renew stay held until they expire.
   */
  renew(): Promise<string[]> {
    return this.#serial(async () => {
      const lost: string[] = [];
      const errors: unknown[] = [];
      await Promise.all(
        [...this.#held].map(async ([shardId, h]) => {
          const lease = { ...h.lease, expiresAt: this.#now() + this.leaseMs, counter: h.lease.counter + 1 };
          try {
            const result = await this.#store.putIf(this.#key(shardId), JSON.stringify(lease), {
              ifVersion: h.version,
            });
            if (result.ok) this.#held.set(shardId, { ...h, lease, version: result.version });
            else {
              this.#held.delete(shardId);
              lost.push(shardId);
            }
          } catch (err) {
            errors.push(err);
          }
        }),
      );
      if (errors.length > 0) throw errors[0];
      return lost.sort();
    });
  }

  /**
   * Gives a lease back (expiresAt 0) so another consumer may take it at once. Call it only after
   * the shard's in-flight work is done and checkpointed. A lease already lost is left alone.
   */
  release(shardId: string): Promise<void> {
    return this.#serial(async () => {
      const h = this.#held.get(shardId);
      if (!h) return;
      // Forget it first: from here on this consumer must not process the shard.
      this.#held.delete(shardId);
      const lease = { ...h.lease, expiresAt: 0, counter: h.lease.counter + 1 };
      await this.#store.putIf(this.#key(shardId), JSON.stringify(lease), { ifVersion: h.version });
    });
  }

  /** Writes this consumer's lease over `s` by CAS; true when it won. */
  async #write(s: Seen, usableAt: number): Promise<boolean> {
    const lease: ShardLease = {
      shardId: s.shardId,
      owner: this.#owner,
      expiresAt: this.#now() + this.leaseMs,
      counter: (s.lease?.counter ?? 0) + 1,
    };
    const condition: PutCondition = s.version === undefined ? { ifAbsent: true } : { ifVersion: s.version };
    const result = await this.#store.putIf(this.#key(s.shardId), JSON.stringify(lease), condition);
    if (result.ok) this.#held.set(s.shardId, { lease, version: result.version, usableAt });
    return result.ok;
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
  };
}
