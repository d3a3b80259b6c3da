import { afterEach, describe, expect, it } from 'vitest';
import { FanoutError, WorkerCrashedError } from '../../../src/errors.js';
import type { MapTask, TaskResult } from '../../../src/protocol/task-types.js';
import { runWithFaults } from '../../../src/runtime/task-faults.js';
import { resetFaultPlan } from '../../../src/task/faults.js';

const saved = process.env.FANOUT_FAULTS;
afterEach(() => {
  if (saved === undefined) delete process.env.FANOUT_FAULTS;
  else process.env.FANOUT_FAULTS = saved;
  resetFaultPlan();
});

function withFaults(spec: string): void {
  process.env.FANOUT_FAULTS = spec;
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
});
