import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';

describe('VirtualClock', () => {
  it('runs timers in time order, then in the order set, without waiting in real time', async () => {
    const clock = new VirtualClock(0);
    const seen: string[] = [];
    const real = Date.now();
    const at = await clock.run(async () => {
      setTimeout(() => seen.push('c'), 3_600_000);
      setTimeout(() => seen.push('a'), 10);
      setTimeout(() => seen.push('b1'), 20);
      setTimeout(() => seen.push('b2'), 20);
      await new Promise((r) => setTimeout(r, 3_600_001));
      return Date.now();
    });
    expect(seen).toEqual(['a', 'b1', 'b2', 'c']);
    expect(at).toBe(3_600_001);
    expect(Date.now() - real).toBeLessThan(5_000);
  });

  it('gives Date, new Date() and performance.now() the virtual time, and every other Date use the real one', async () => {
    const clock = new VirtualClock(Date.UTC(2030, 0, 1));
    const r = await clock.run(async () => {
      const p0 = performance.now();
      await new Promise((res) => setTimeout(res, 1500));
      return {
        now: Date.now(),
        iso: new Date().toISOString(),
        parsed: new Date('2001-02-03T00:00:00Z').getTime(),
        utc: Date.UTC(2001, 1, 3),
        isDate: new Date() instanceof Date,
        elapsed: performance.now() - p0,
      };
    });
    expect(r.now).toBe(Date.UTC(2030, 0, 1) + 1500);
    expect(r.iso).toBe('2030-01-01T00:00:01.500Z');
    expect(r.parsed).toBe(Date.UTC(2001, 1, 3));
    expect(r.utc).toBe(Date.UTC(2001, 1, 3));
    expect(r.isDate).toBe(true);
    expect(r.elapsed).toBe(1500);
  });

  it('repeats intervals until cleared, and never fires a cleared timer', async () => {
    const clock = new VirtualClock(0);
    const ticks = await clock.run(async () => {
      const times: number[] = [];
      const every = setInterval(() => times.push(Date.now()), 100);
      every.unref();
      const never = setTimeout(() => times.push(-1), 150);
      clearTimeout(never);
      await new Promise((r) => setTimeout(r, 350));
      clearInterval(every);
      await new Promise((r) => setTimeout(r, 1000));
      return times;
    });
    expect(ticks).toEqual([100, 200, 300]);
  });

  it('puts the real timers back when the run ends, also when it throws, and drops timers left behind', async () => {
    const realSetTimeout = globalThis.setTimeout;
    const RealDate = globalThis.Date;
    const clock = new VirtualClock(0);
    await expect(
      clock.run(async () => {
        setInterval(() => {}, 10);
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(globalThis.setTimeout).toBe(realSetTimeout);
    expect(globalThis.Date).toBe(RealDate);
    expect(clock.pending).toBe(0);
    expect(Math.abs(Date.now() - new RealDate().getTime())).toBeLessThan(1000);
  });

  it('waits for real I/O while no timer is due, without advancing', async () => {
    const clock = new VirtualClock(0);
    const r = await clock.run(async () => {
      const before = Date.now();
      await new Promise<void>((res) => process.nextTick(res));
      await import('node:fs/promises').then((fs) => fs.readFile(new URL(import.meta.url)));
      return Date.now() - before;
    });
    expect(r).toBe(0);
  });
});
