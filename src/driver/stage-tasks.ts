import type { InputSpec } from '../job/types.js';
import {
  attemptBadRecordsKey,
  attemptPartKey,
  cancelKey,
  mapTaskId,
  reduceInputsKey,
  reduceTaskId,
  shuffleKey,
  taskLogKey,
} from '../protocol/store-layout.js';
import type { MapResult, MapTask, ReduceInput, ReduceTask } from '../protocol/task-types.js';
import { fnv1a } from '../shuffle/hash.js';
import { describeInput, type MapInput } from './plan-splits.js';
import type { TaskSpec } from './schedule.js';

/** What every task of one stage shares. */
export interface StageContext {
  jobId: string;
  stage: number;
  memoryBudget: number;
  /** URL of the work store, where shuffle data and reduce inputs live. */
  workUrl: string;
  partitions: number;
  /** Where the stage's partition plan is stored, when it has one: every map task reads it. */
  partitionPlan?: MapTask['partitionPlan'];
}

/**
 * The map tasks of a stage, one per planned input. With `input.onBadRecord: 'skip'` each attempt
 * writes the records it skips under `_temporary/` in `outputStore`, the run's output folder.
 */
export function mapTaskSpecs(
  ctx: StageContext,
  inputs: readonly MapInput[],
  input: InputSpec,
  outputStore: string,
): TaskSpec<MapTask>[] {
  const skips = input.onBadRecord === 'skip';
  return inputs.map((mi, i) => {
    const taskId = mapTaskId(ctx.stage, i);
    const spread = fnv1a(taskId);
    return {
      taskId,
      describe: describeInput(mi),
      attempt: (attempt) => ({
        kind: 'map',
        jobId: ctx.jobId,
        stage: ctx.stage,
        taskId,
        attempt,
        memoryBudget: ctx.memoryBudget,
        cancel: { store: ctx.workUrl, key: cancelKey(ctx.jobId) },
        log: { store: ctx.workUrl, key: taskLogKey(ctx.jobId, taskId, attempt) },
        input,
        splits: mi.splits,
        partitions: ctx.partitions,
        shuffleStore: ctx.workUrl,
        shuffleKey: shuffleKey(ctx.jobId, ctx.stage, taskId, attempt, spread),
        ...(skips && { badRecords: { store: outputStore, key: attemptBadRecordsKey(taskId, attempt) } }),
        ...(ctx.partitionPlan && { partitionPlan: ctx.partitionPlan }),
      }),
    };
  });
}

/** Partition p's non-empty slices of every committed map output: what reducer p reads. */
export function reduceInputs(ctx: StageContext, maps: readonly MapResult[]): ReduceInput[][] {
  return Array.from({ length: ctx.partitions }, (_, p) =>
    maps.flatMap((m) => {
      const slice = m.slices[p];
      return slice && slice.length > 0 ? [{ store: ctx.workUrl, key: m.shuffleKey, slice }] : [];
    }),
  );
}

/**
 * The reduce tasks of a stage, one per stored input list (its slice count and CRC-32, which the task
 * checks the list against). Each writes its part file under an attempt-scoped key below
 * `outPrefix` + `_temporary/` in the output store; the driver moves the committed one into place.
 */
export function reduceTaskSpecs(
  ctx: StageContext,
  lists: readonly { count: number; crc: number }[],
  output: { store: string; prefix: string },
): TaskSpec<ReduceTask>[] {
  return lists.map(({ count, crc }, p) => {
    const taskId = reduceTaskId(ctx.stage, p);
    return {
      taskId,
      describe: `partition ${p} of stage ${ctx.stage} (${count} map outputs)`,
      attempt: (attempt) => ({
        kind: 'reduce',
        jobId: ctx.jobId,
        stage: ctx.stage,
        taskId,
        attempt,
        memoryBudget: ctx.memoryBudget,
        cancel: { store: ctx.workUrl, key: cancelKey(ctx.jobId) },
        log: { store: ctx.workUrl, key: taskLogKey(ctx.jobId, taskId, attempt) },
        partition: p,
        inputs: { store: ctx.workUrl, key: reduceInputsKey(ctx.jobId, ctx.stage, p), count, crc },
        outputStore: output.store,
        outputKey: attemptPartKey(output.prefix, ctx.stage, p, attempt),
      }),
    };
  });
}
