import { describe, expect, it } from 'vitest';
import { heapSizer, LARGE_PLAN_TASKS } from '../../../src/cli/heap-sizing.js';
import type { ProgressEvent } from '../../../src/driver/progress.js';

const phase = (tasks: number): ProgressEvent => ({
  type: 'phase-start',
  stage: 0,
  phase: 'map',
  tasks,
  bytes: 0,
});

describe('heapSizer', () => {
  it('turns on --optimize-for-size once, at the first phase of more than LARGE_PLAN_TASKS tasks', () => {
    const set: string[] = [];
    const size = heapSizer((f) => set.push(f), [], undefined);
    expect(size({ type: 'warning', message: 'x' })).toBe(false);
    expect(size(phase(LARGE_PLAN_TASKS))).toBe(false);
    expect(set).toEqual([]);
    expect(size(phase(LARGE_PLAN_TASKS + 1))).toBe(true);
    expect(size(phase(200_000))).toBe(false);
    expect(set).toEqual(['--optimize-for-size']);
  });

  it.each([
    [['--no-optimize-for-size'], undefined],
    [['--optimize_for_size'], undefined],
    [[], '--max-old-space-size=4096 --no-optimize-for-size'],
  ])('leaves the flag alone when node was given it either way (%j, NODE_OPTIONS %j)', (argv, options) => {
    const set: string[] = [];
    const size = heapSizer((f) => set.push(f), argv, options);
    expect(size(phase(100_000))).toBe(false);
    expect(set).toEqual([]);
  });
});
