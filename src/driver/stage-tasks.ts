import type { InputSpec } from '../job/types.js';
import type { MapResult, MapTask, ReduceInput, ReduceTask } from '../runtime/task-types.js';
import { fnv1a } from '../shuffle/hash.js';
import { TEMPORARY_DIR } from './output-claim.js';
import { describeInput, type MapInput } from './plan-splits.js';
import type { TaskSpec } from './schedule.js';

/** What every task of one stage shares. */
export interface StageContext {
  jobId: string;
  stage: number;
  memoryBudget: number;
  /** URL of the work store, where shuffle data and reduce inputs live. */
  workUrl: string;
  /** Key prefix of this stage's intermediate data in the work store. */
  dataPrefix: string;
  partitions: number;
}

const pad = (n: number) => String(n).padStart(5, '0');

export const mapTaskId = (stage: number, i: number): string => `s${stage}-m${pad(i)}`;
export const reduceTaskId = (stage: number, p: number): string => `s${stage}-r${pad(p)}`;
export const partFileName = (p: number): string => `part-${pad(p)}.jsonl`;

/** The map tasks of a stage, one per planned input. */
export function mapTaskSpecs(
  ctx: StageContext,
  inputs: readonly MapInput[],
  input: InputSpec,
): TaskSpec<MapTask>[] {
  return inputs.map((mi, i) => {
    const taskId = mapTaskId(ctx.stage, i);
    // Hashed prefixes spread shuffle writes over S3 partitions; attempt-scoped so retries never collide.
    const spread = (fnv1a(taskId) & 0xff).toString(16).padStart(2, '0');
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
        input,
        splits: mi.splits,
        partitions: ctx.partitions,
        shuffleStore: ctx.workUrl,
        shuffleKey: `${ctx.dataPrefix}shuffle/${spread}/${taskId}-a${attempt}.shf`,
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

/** Where reducer p's input list is stored: invocations carry this pointer, never the list itself. */
export const reduceInputsKey = (ctx: StageContext, p: number): string =>
  `${ctx.dataPrefix}reduce-inputs/${reduceTaskId(ctx.stage, p)}.json`;

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
        partition: p,
        inputs: { store: ctx.workUrl, key: reduceInputsKey(ctx, p), count, crc },
        outputStore: output.store,
        outputKey: `${output.prefix}${TEMPORARY_DIR}/${taskId}-a${attempt}/${partFileName(p)}`,
      }),
    };
  });
}
