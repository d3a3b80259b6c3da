import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirStore } from '../../../../src/store/local-dir-store.js';
import { ShardLeases } from '../../../../src/stream/consumer/shard-leases.js';
import { tempDir } from '../../../helpers/temp.js';

const LEASE_MS = 10_000;
const SHARDS = ['shardId-000', 'shardId-001', 'shardId-002', 'shardId-003'];
const PREFIX = 'streams/clicks/leases/';

const tmp = tempDir('shard-leases');
let serial = 0;
afterAll(() => tmp.cleanup());

/** A store and a clock shared by several consumers, as on one host; `failing` makes writes fail. */
function world() {
  const inner = new LocalDirStore(join(tmp.path, `store-${++serial}`));
  const failing = new Set<string>();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'putIf')
        return (key: string, ...rest: unknown[]) => {
          for (const owner of failing) if (writer === owner) throw new Error(`store down for ${owner}`);
          return (target.putIf as (...a: unknown[]) => unknown).call(target, key, ...rest);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  let writer = '';
  const clock = { t: 1_000_000 };
  const consumer = (owner: string) => {
    const leases = new ShardLeases({ store, prefix: PREFIX, owner, leaseMs: LEASE_MS, now: () => clock.t });
    // Each call names who writes, so a failing store can fail one consumer's writes only.
    return new Proxy(leases, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          writer = owner;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  return { store, clock, consumer, failing };
}

/**
 * Rounds of renew and acquire, as consumers' heartbeats would run, a third of a lease apart. A
 * shard a renewal says to stop is released at once, as a consumer does once it has checkpointed.
 */
async function heartbeat(clock: { t: number }, consumers: ShardLeases[], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const c of consumers) {
      for (const id of (await c.renew()).stop) await c.release(id);
      await c.acquire(SHARDS);
    }
    clock.t += LEASE_MS / 3;
  }
}

/** Every shard owned by exactly one consumer. */
function expectPartition(consumers: ShardLeases[]): void {
  const all = consumers.flatMap((c) => c.owned());
  expect(all.sort()).toEqual(SHARDS);
}

describe('ShardLeases', () => {
  it('gives a lone consumer every shard', async () => {
    const { consumer } = world();
    const a = consumer('a');

    expect(await a.acquire(SHARDS)).toEqual(SHARDS);
  });

  it('balances four shards two and two between two consumers', async () => {
    const { clock, consumer } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(SHARDS);

    await heartbeat(clock, [a, b], 6);

    expect(a.owned()).toHaveLength(2);
    expect(b.owned()).toHaveLength(2);
    expectPartition([a, b]);
  });

  it('balances four shards two, one and one between three consumers', async () => {
    const { clock, consumer } = world();
    const cs = [consumer('a'), consumer('b'), consumer('c')];

    await heartbeat(clock, cs, 8);

    expect(cs.map((c) => c.owned().length).sort()).toEqual([1, 1, 2]);
    expectPartition(cs);
  });

  it('hands the shards of a consumer that stops renewing to the others after its leases expire', async () => {
    const { clock, consumer } = world();
    const [a, b, c] = [consumer('a'), consumer('b'), consumer('c')];
    await heartbeat(clock, [a, b, c], 8);
    const orphaned = c.owned();
    expect(orphaned.length).toBeGreaterThan(0);

    // c goes silent; before its term ends nobody may take its shards.
    await heartbeat(clock, [a, b], 1);
    expect([...a.owned(), ...b.owned()]).not.toContain(orphaned[0]);
    await heartbeat(clock, [a, b], 4);

    expect(c.owned()).toEqual([]);
    expect(a.owned()).toHaveLength(2);
    expect(b.owned()).toHaveLength(2);
    expectPartition([a, b]);
  });

  it('lets exactly one of two consumers racing for a free shard win, every time', async () => {
    for (let round = 0; round < 40; round++) {
      const { consumer } = world();
      const a = consumer('a');
      const b = consumer('b');

      const [gotA, gotB] = await Promise.all([a.acquire(['shardId-000']), b.acquire(['shardId-000'])]);

      expect([...gotA, ...gotB]).toEqual(['shardId-000']);
    }
  });

  it('asks for one lease for balance; the owner stops and releases it before the asker takes it', async () => {
    const { consumer } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(SHARDS);

    expect(await b.acquire(SHARDS)).toEqual([]);
    // a still processes all four until its next renewal tells it of the request.
    expect(a.owned()).toEqual(SHARDS);
    const { stop } = await a.renew();
    expect(stop).toEqual(['shardId-003']);
    expect(a.owned()).toEqual(SHARDS.slice(0, 3));
    // Not released yet (a is still checkpointing): nobody may take it.
    expect(await b.acquire(SHARDS)).toEqual([]);
    await a.release('shardId-003');

    // Handed over in b's name: b finds it at its next acquire, and asks for a second (3 against 1).
    expect(await b.acquire(SHARDS)).toEqual(['shardId-003']);
    expect((await a.renew()).stop).toEqual(['shardId-002']);
  });

  it('takes a lease asked for but never handed over only once its term ends', async () => {
    const { clock, consumer } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(SHARDS);
    await b.acquire(SHARDS);

    clock.t += LEASE_MS - 1;
    expect(await b.acquire(SHARDS)).toEqual([]);
    clock.t += 1;

    expect(await b.acquire(SHARDS)).toEqual(SHARDS);
  });

  it('stops a shard whose renewals keep failing half a lease before anyone else may take it', async () => {
    const { clock, consumer, failing } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(['shardId-000']);
    failing.add('a');

    clock.t += LEASE_MS / 3;
    const first = await a.renew();
    expect(first.error).toBeDefined();
    expect(first.stop).toEqual([]);
    expect(a.owned()).toEqual(['shardId-000']);
    clock.t += LEASE_MS / 3;
    const second = await a.renew();

    expect(second.stop).toEqual(['shardId-000']);
    expect(a.owned()).toEqual([]);
    // The rest of the term is a's to wind down in: b waits it out.
    expect(await b.acquire(['shardId-000'])).toEqual([]);
    clock.t += LEASE_MS / 3;
    expect(await b.acquire(['shardId-000'])).toEqual(['shardId-000']);
  });

  it('reports a lease lost when its owner renews after the lease was taken over', async () => {
    const { clock, consumer } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(['shardId-000']);
    clock.t += LEASE_MS;
    await b.acquire(['shardId-000']);

    const { stop } = await a.renew();

    expect(stop).toEqual(['shardId-000']);
    expect(a.owned()).toEqual([]);
    expect(b.owned()).toEqual(['shardId-000']);
  });

  it('frees a released lease for another consumer at once', async () => {
    const { consumer } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(['shardId-000']);

    await a.release('shardId-000');

    expect(a.owned()).toEqual([]);
    expect(await b.acquire(['shardId-000'])).toEqual(['shardId-000']);
  });

  it('stops reporting a lease as owned once its term ends without renewal', async () => {
    const { clock, consumer } = world();
    const a = consumer('a');
    await a.acquire(['shardId-000']);

    clock.t += LEASE_MS;

    expect(a.owned()).toEqual([]);
  });
});
