/**
 * How `mr` sizes V8's heaps. By default V8 lets a heap grow to 2-3 times what it holds before
 * collecting; `--optimize-for-size` collects sooner, but it is process-wide, so it slows the job's
 * own code in the local worker threads as much as it shrinks the driver: a CSV aggregation's map
 * phase took 1.8 s with it and 1.0 s without (bench/README.md, "CSV aggregation" and "Driver memory"). Most of a small
 * plan's memory is the job's, so `mr` runs at full speed, and turns the flag on only when a phase
 * plans more than LARGE_PLAN_TASKS tasks, where the driver's bookkeeping of every task is what
 * grows (104,858 tasks: 550-650 MB peak without it, 310-340 MB with). V8 reads the flag as it
 * collects, so setting it once the plan is known still counts, for the workers already running too.
 */
import { setFlagsFromString } from 'node:v8';
import type { ProgressEvent } from '../driver/progress.js';

export const LARGE_PLAN_TASKS = 10_000;

/** Whether node was given the flag either way (`node --no-optimize-for-size bin/mr.js`): that wins. */
const given = (argv: readonly string[], nodeOptions: string | undefined) =>
  /--(no-)?optimize[-_]for[-_]size/.test([...argv, nodeOptions ?? ''].join(' '));

/**
 * A progress listener that turns on `--optimize-for-size` at the first phase of more than
 * LARGE_PLAN_TASKS tasks, unless node was told either way. Returns whether it did, for tests.
 */
export function heapSizer(
  setFlags: (flags: string) => void = setFlagsFromString,
  argv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): (e: ProgressEvent) => boolean {
  let done = given(argv, nodeOptions);
  return (e) => {
    if (done || e.type !== 'phase-start' || e.tasks <= LARGE_PLAN_TASKS) return false;
    done = true;
    setFlags('--optimize-for-size');
    return true;
  };
}
