import { afterEach, describe, expect, it } from 'vitest';
import { FanoutError, WorkerCrashedError } from '../../../src/errors.js';
import type { MapTask, TaskResult } from '../../../src/protocol/task-types.js';
import { runWithFaults } from '../../../src/runtime/task-faults.js';
import { attemptFault } from '../../../src/task/attempt-faults.js';
import { resetFaultPlan } from '../../../src/task/faults.js';

const saved = process.env.FANOUT_FAULTS;
afterEach(() => {
  if (saved === undefined) delete process.env.FANOUT_FAULTS;
  else process.env.FANOUT_FAULTS = saved;
  resetFaultPlan();
});

const savedSeed = process.env.FANOUT_FAULTS_SEED;
afterEach(() => {
  if (savedSeed === undefined) delete process.env.FANOUT_FAULTS_SEED;
  else process.env.FANOUT_FAULTS_SEED = savedSeed;
});

function withFaults(spec: string, seed = '0'): void {
  process.env.FANOUT_FAULTS = spec;
  process.env.FANOUT_FAULTS_SEED = seed;
  resetFaultPlan();
}

const task = { kind: 'map', taskId: 's0-m00001', attempt: 1 } as MapTask;
const result: TaskResult = {
  kind: 'map',
  shuffleKey: 'k',
  slices: [],
  metrics: { inputBytes: 0, inputRecords: 0, outputRecords: 0, outputBytes: 0, spills: 0, ms: 1 },
};

describe('runWithFaults', () => {
  it('fails an attempt with a retryable error that carries its count, without running it', async () => {
    withFaults('map:throw:1');
    let ran = false;

    const run = runWithFaults(task, async () => {
      ran = true;
      return result;
    });

    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FanoutError);
    expect((err as FanoutError).retryable).toBe(true);
    expect((err as FanoutError).faults).toEqual({ 'map:throw': 1 });
    expect(ran).toBe(false);
  });

  it('turns a crash into a crashed-worker error where no thread of its own can end', async () => {
    withFaults('map:crash:1');

    const err = await runWithFaults(task, async () => result).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect((err as FanoutError).faults).toEqual({ 'map:crash': 1 });
  });

  it('leaves a result without faults as it is', async () => {
    withFaults('reduce:throw:1');

    await expect(runWithFaults(task, async () => result)).resolves.toEqual(result);
  });

  it('decides the same faults for an attempt met again in the same thread, as by a warm Lambda serving another run', async () => {
    withFaults('map:throw:0.3,store.get:error:0.3', 'warm');
    /** Each attempt's outcome: thrown or not, and its three store reads. */
    const pass = async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < 60; i++) {
        const t = { ...task, taskId: `s0-m${String(i).padStart(5, '0')}` };
        const reads: string[] = [];
        const out = await runWithFaults(t, async () => {
          for (let r = 0; r < 3; r++) reads.push(attemptFault('store.get') ?? '-');
          return result;
        }).then(
          () => 'ok',
          (e: FanoutError) => JSON.stringify(e.faults),
        );
        outcomes.push(`${out} ${reads.join(',')}`);
      }
      return outcomes;
    };

    const first = await pass();
    const again = await pass();

    expect(again).toEqual(first);
    // Both kinds were met, so the passes compare decisions, not the absence of any.
    expect(first.some((o) => o.startsWith('{"map:throw":1}'))).toBe(true);
    expect(first.some((o) => o.includes('error'))).toBe(true);
  });

  it('draws afresh for an attempt invoked again after a throttle', async () => {
    withFaults('store.put:slowdown:0.5', 'again');
    /** Each of 40 attempts' first store write, on its first invocation and on the one after a throttle. */
    const writes = async (throttled?: number) => {
      const out: string[] = [];
      for (let i = 0; i < 40; i++) {
        const t = { ...task, taskId: `s0-m${String(i).padStart(5, '0')}`, ...(throttled && { throttled }) };
        await runWithFaults(t, async () => {
          out.push(attemptFault('store.put') ?? '-');
          return result;
        });
      }
      return out;
    };

    const first = await writes();
    const again = await writes(1);

    // Decided anew (or SlowDown would never end), and alike each time it is met.
    expect(again).not.toEqual(first);
    expect(await writes(1)).toEqual(again);
  });
});
