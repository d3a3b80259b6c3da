import { describe, expect, it } from 'vitest';
import { PRICES } from '../../../src/driver/prices.js';
import { estimatePlan } from '../../../src/plan/estimate.js';
import { DEFAULT_MODEL, type PlanModel, withSettings } from '../../../src/sim/cloud-model.js';

/** A model where only what a test names takes time: 1 MB/s of mapping, everything else free. */
const bare: PlanModel = {
  ...DEFAULT_MODEL,
  readMBps: 1e9,
  writeMBps: 1e9,
  mapMBps: 1,
  reduceMBps: 1e9,
  shuffleRatio: 1e-9,
  outputRatio: 1,
  coldStartMs: 0,
  requestMs: 0,
  invokesPerSecond: Number.POSITIVE_INFINITY,
  putsPerSecond: Number.POSITIVE_INFINITY,
  getsPerSecond: Number.POSITIVE_INFINITY,
};
const target = { concurrency: 2, memoryMb: 1769, arch: 'arm64' as const };

describe('estimatePlan', () => {
  it('runs tasks in waves over the slots there are', () => {
    // Four tasks of 1 MB at 1 MB/s on 2 slots: two waves of a second.
    const e = estimatePlan([{ mapTaskBytes: [1e6, 1e6, 1e6, 1e6], splits: 4, reduceTasks: 0 }], target, bare);
    expect(e.stages[0]?.map.seconds).toBeCloseTo(2, 6);
    expect(e.stages[0]?.map.taskSeconds).toBeCloseTo(4, 6);
    // An uneven plan: 3 s and 1 s and 1 s on 2 slots end at 3 s (the short ones share a slot).
    const u = estimatePlan([{ mapTaskBytes: [3e6, 1e6, 1e6], splits: 3, reduceTasks: 0 }], target, bare);
    expect(u.stages[0]?.map.seconds).toBeCloseTo(3, 6);
  });

  it('pays a cold start once per environment, and computes slower below a full vCPU', () => {
    const cold = { ...bare, coldStartMs: 500 };
    const e = estimatePlan([{ mapTaskBytes: [1e6, 1e6, 1e6, 1e6], splits: 4, reduceTasks: 0 }], target, cold);
    expect(e.stages[0]?.map.seconds).toBeCloseTo(2.5, 6);
    expect(e.stages[0]?.map.taskSeconds).toBeCloseTo(5, 6);
    const half = estimatePlan(
      [{ mapTaskBytes: [1e6], splits: 1, reduceTasks: 0 }],
      { ...target, memoryMb: 1769 / 2 },
      bare,
    );
    expect(half.stages[0]?.map.seconds).toBeCloseTo(2, 6);
  });

  it('starts environments no faster than the ramp allows and no more than the account has', () => {
    // 3,000 tasks of 20 s, 3,000 asked for: 1,000 start at 0 s, 1,000 at 10 s, and the last 1,000 find
    // the first 1,000 free at 20 s, when the ramp would allow new ones too: the phase ends at 40 s.
    const tasks = Array.from({ length: 3000 }, () => 20e6);
    const ramp = estimatePlan(
      [{ mapTaskBytes: tasks, splits: 3000, reduceTasks: 0 }],
      { ...target, concurrency: 3000 },
      { ...bare, accountConcurrency: 3000 },
    );
    expect(ramp.stages[0]?.map.seconds).toBeCloseTo(40, 6);
    // With an account of 500 functions: six waves of 20 s.
    const account = estimatePlan(
      [{ mapTaskBytes: tasks, splits: 3000, reduceTasks: 0 }],
      { ...target, concurrency: 3000 },
      { ...bare, accountConcurrency: 500 },
    );
    expect(account.stages[0]?.map.seconds).toBeCloseTo(120, 6);
  });

  it("is bounded below by S3's request rate per prefix, and says so", () => {
    const tasks = Array.from({ length: 7000 }, () => 1);
    const e = estimatePlan(
      [{ mapTaskBytes: tasks, splits: 7000, reduceTasks: 0 }],
      { ...target, concurrency: 7000 },
      { ...bare, putsPerSecond: 3500, accountConcurrency: 10_000, rampPer10s: 10_000, shufflePrefixes: 1 },
    );
    expect(e.stages[0]?.map.seconds).toBeCloseTo(2, 6);
    expect(e.stages[0]?.map.boundBy).toBe('s3-puts');
    // A million slices at 5,500 GETs a second under one prefix: the reduce phase of 1,000 x 1,000 takes
    // 182 s at least; spread over 256 prefixes, under a second.
    const shape = [{ mapTaskBytes: Array.from({ length: 1000 }, () => 1), splits: 1000, reduceTasks: 1000 }];
    const one = estimatePlan(
      shape,
      { ...target, concurrency: 1000 },
      { ...bare, getsPerSecond: 5500, shufflePrefixes: 1 },
    );
    expect(one.stages[0]?.reduce.seconds).toBeCloseTo(1e6 / 5500, 3);
    expect(one.stages[0]?.reduce.boundBy).toBe('s3-gets');
    const spread = estimatePlan(shape, { ...target, concurrency: 1000 }, { ...bare, getsPerSecond: 5500 });
    expect(spread.stages[0]?.reduce.seconds).toBeCloseTo(1e6 / 5500 / 256, 3);
  });

  it('prices the tasks, invocations and requests from the price table', () => {
    const e = estimatePlan([{ mapTaskBytes: [1e6, 1e6], splits: 2, reduceTasks: 3 }], target, bare);
    // 2 s of map tasks at 1769 MB; reduce tasks take no time in this model.
    const gbSeconds = 2 * (1769 / 1024);
    // GETs: a split each, an input list per reducer, a slice per map task and reducer; PUTs: a shuffle
    // object per map task, an input list, a part and its move per reducer, and 6 of job state.
    const gets = 2 + 3 + 2 * 3;
    const puts = 2 + 3 * 3 + 6;
    expect(e.requests).toMatchObject({ get: gets, put: puts });
    const usd =
      gbSeconds * PRICES.lambda.gbSecond.arm64 +
      5 * PRICES.lambda.request +
      puts * PRICES.s3.put +
      gets * PRICES.s3.get;
    expect(e.cost.usd).toBeCloseTo(usd, 12);
    expect(e.cost.invocations).toBe(5);
  });

  it('counts the combining tier: reducers read one slice per merge, merges read each map output once', () => {
    const m = 1000;
    const shape = { mapTaskBytes: Array.from({ length: m }, () => 1e6), splits: m, reduceTasks: 100 };
    const slow = { ...bare, requestMs: 20, readsInFlight: 4 };
    const plain = estimatePlan([shape], { ...target, concurrency: 1000 }, slow);
    const merged = estimatePlan([{ ...shape, mergeFanIn: 32 }], { ...target, concurrency: 1000 }, slow);
    const g = Math.ceil(m / 32);
    expect(merged.stages[0]?.mergeTasks).toBe(g);
    expect(plain.stages[0]?.mergeTasks).toBe(0);
    // GETs: splits, lists, slices (a merge's list and each map output read once besides).
    expect(plain.requests.get).toBe(m + 100 + m * 100);
    expect(merged.requests.get).toBe(m + 100 + g * 100 + g + m);
    // Each reducer waits on 250 requests (4 at a time, 20 ms) plain, on 8 merged; a merge on 8 of its own.
    expect(plain.stages[0]?.reduce.seconds).toBeCloseTo((250 * 20 + 3 * 20) / 1000, 3);
    expect(merged.stages[0]?.reduce.seconds).toBeCloseTo((8 * 20 + 3 * 20) / 1000, 3);
    expect(merged.stages[0]?.merge?.seconds).toBeCloseTo((8 * 20 + 3 * 20) / 1000, 3);
    expect(merged.cost.usd).toBeLessThan(plain.cost.usd);
  });
});

describe('withSettings', () => {
  it('changes named figures and refuses unknown names and bad numbers in one line', () => {
    expect(withSettings(DEFAULT_MODEL, ['readMBps=80', 'coldStartMs=1000'])).toMatchObject({
      readMBps: 80,
      coldStartMs: 1000,
    });
    expect(() => withSettings(DEFAULT_MODEL, ['speed=3'])).toThrow(
      /^--set "speed=3": expected name=value with a name among readMBps, /,
    );
    expect(() => withSettings(DEFAULT_MODEL, ['readMBps=fast'])).toThrow(
      '--set readMBps: expected a positive number, got "fast"',
    );
    expect(() => withSettings(DEFAULT_MODEL, ['readMBps=0'])).toThrow(/positive number/);
    // Shares and spreads of the simulation may be 0; a share is at most 1.
    expect(withSettings(DEFAULT_MODEL, ['failureRate=0', 'taskJitter=0'])).toMatchObject({
      failureRate: 0,
      taskJitter: 0,
    });
    expect(() => withSettings(DEFAULT_MODEL, ['stragglerRate=1.5'])).toThrow(
      '--set stragglerRate: expected a share from 0 to 1, got "1.5"',
    );
  });
});
