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

/** A store and a clock shared by several consumers, as on one host. */
function world() {
  const store = new LocalDirStore(join(tmp.path, `store-${++serial}`));
  const clock = { t: 1_000_000 };
  const consumer = (owner: string) =>
    new ShardLeases({ store, prefix: PREFIX, owner, leaseMs: LEASE_MS, now: () => clock.t });
  return { store, clock, consumer };
}

/** Rounds of acquire and renew, as consumers' heartbeats would run, a third of a lease apart. */
async function heartbeat(clock: { t: number }, consumers: ShardLeases[], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const c of consumers) {
      await c.renew();
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

  it('steals one lease for balance, usable only once the victim’s term has ended', async () => {
    const { clock, consumer } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(SHARDS);

    expect(await b.acquire(SHARDS)).toEqual([]);
    clock.t += LEASE_MS - 1;
    await b.renew();
    expect(b.owned()).toEqual([]);
    clock.t += 1;
    const stolen = b.owned();

    expect(stolen).toHaveLength(1);
    expect(await a.renew()).toEqual(stolen);
  });

  it('reports a lease lost when its owner renews after the lease was taken over', async () => {
    const { clock, consumer } = world();
    const a = consumer('a');
    const b = consumer('b');
    await a.acquire(['shardId-000']);
    clock.t += LEASE_MS;
    await b.acquire(['shardId-000']);

    const lost = await a.renew();

    expect(lost).toEqual(['shardId-000']);
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
