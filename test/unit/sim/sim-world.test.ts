import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../../../src/sim/cloud-model.js';
import { SimWorld } from '../../../src/sim/sim-world.js';

const world = (over: Partial<typeof DEFAULT_MODEL> = {}) =>
  new SimWorld({ ...DEFAULT_MODEL, ...over }, 1769, 'arm64');

describe('SimWorld.admit', () => {
  it("answers 503 once a prefix has used a second's worth of its rate, and refills at the rate", async () => {
    const w = world({ getsPerSecond: 10 });
    const admitted = await w.clock.run(async () => {
      const first = Array.from({ length: 12 }, () => w.admit('get', 'data/a/x'));
      // Another prefix has its own rate.
      const other = w.admit('get', 'data/b/x');
      await w.clock.sleep(100);
      const refilled = [w.admit('get', 'data/a/y'), w.admit('get', 'data/a/z')];
      return { first, other, refilled };
    });
    expect(admitted.first.filter(Boolean)).toHaveLength(10);
    expect(admitted.first.slice(10)).toEqual([false, false]);
    expect(admitted.other).toBe(true);
    // 100 ms at 10/s: one more request.
    expect(admitted.refilled).toEqual([true, false]);
    expect(w.counts.slowDowns).toBe(3);
    expect(w.counts.requests.get).toBe(15);
  });

  it('keeps PUT and GET rates apart', () => {
    const w = world({ getsPerSecond: 1, putsPerSecond: 1 });
    expect([w.admit('get', 'p/k'), w.admit('put', 'p/k'), w.admit('get', 'p/k')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('draws the same numbers from the same seed', () => {
    const a = new SimWorld(DEFAULT_MODEL, 1769, 'arm64', 7);
    const b = new SimWorld(DEFAULT_MODEL, 1769, 'arm64', 7);
    const c = new SimWorld(DEFAULT_MODEL, 1769, 'arm64', 8);
    const draw = (w: SimWorld) => Array.from({ length: 5 }, () => w.random());
    const da = draw(a);
    expect(draw(b)).toEqual(da);
    expect(draw(c)).not.toEqual(da);
    for (const x of da) expect(x >= 0 && x < 1).toBe(true);
  });
});
