import type { InputSpec } from '../job/types.js';
import { type OutputSpec, partExtension } from '../output/output-spec.js';
import {
  attemptBadRecordsKey,
  attemptMapPartKey,
  attemptPartKey,
  cancelKey,
  mapTaskId,
  mergeInputsKey,
  mergeTaskId,
  reduceInputsKey,
  reduceTaskId,
  shuffleKey,
  taskLogKey,
} from '../protocol/store-layout.js';
import type { MapTask, MergeTask, ReduceInput, ReduceTask, ShuffleOutput } from '../protocol/task-types.js';
import { fnv1a } from '../shuffle/hash.js';
import { sliceOf } from './packed-map-result.js';
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

/** The fields every task of a stage carries (see TaskBase): who it is, its budget, its cancel marker. */
function taskFields(ctx: StageContext, taskId: string, attempt: number) {
  return {
    jobId: ctx.jobId,
    stage: ctx.stage,
    taskId,
    attempt,
    memoryBudget: ctx.memoryBudget,
    cancel: { store: ctx.workUrl, key: cancelKey(ctx.jobId) },
  };
}

/**
 * The map tasks of a stage, one per planned input. With `input.onBadRecord: 'skip'` each attempt
 * writes the records it skips under `_temporary/` in `outputStore`, the run's output folder. A
 * map-only stage's tasks are given `parts`: each attempt writes its part file under `prefix` +
 * `_temporary/` in `parts.store`, where a reduce attempt would.
 */
export function mapTaskSpecs(
  ctx: StageContext,
  inputs: readonly MapInput[],
  input: InputSpec,
  outputStore: string,
  parts?: PartsOutput,
): TaskSpec<MapTask>[] {
  const shared: MapSpecContext = {
    ...ctx,
    input,
    outputStore,
    skips: input.onBadRecord === 'skip',
    ...(parts && { parts }),
  };
  return inputs.map((mi, i) => new MapTaskSpec(shared, mi, i));
}

interface MapSpecContext extends StageContext {
  input: InputSpec;
  outputStore: string;
  skips: boolean;
  parts?: PartsOutput;
}

/** Where a stage's part files go: under `prefix` in `store`, in `format` for the job's last stage. */
export interface PartsOutput {
  store: string;
  prefix: string;
  format?: OutputSpec;
}

/**
 * One map task's spec: a task id and pointers to what every task of the stage shares. A plan may
 * hold 100,000 tasks; a closure and a message string each would cost the driver about 50 MB, so
 * the description is made only when a message needs it.
 */
class MapTaskSpec implements TaskSpec<MapTask> {
  readonly #ctx: MapSpecContext;
  readonly #input: MapInput;
  readonly #index: number;
  readonly taskId: string;

  constructor(ctx: MapSpecContext, input: MapInput, index: number) {
    this.#ctx = ctx;
    this.#input = input;
    this.#index = index;
    this.taskId = mapTaskId(ctx.stage, index);
  }

  get describe(): string {
    return describeInput(this.#input);
  }

  attempt(attempt: number): MapTask {
    const ctx = this.#ctx;
    const taskId = this.taskId;
    return {
      kind: 'map',
      ...taskFields(ctx, taskId, attempt),
      log: { store: ctx.workUrl, key: taskLogKey(ctx.jobId, taskId, attempt) },
      input: ctx.input,
      splits: this.#input.splits,
      partitions: ctx.partitions,
      shuffleStore: ctx.workUrl,
      shuffleKey: shuffleKey(ctx.jobId, ctx.stage, taskId, attempt, fnv1a(taskId)),
      ...(ctx.skips && {
        badRecords: { store: ctx.outputStore, key: attemptBadRecordsKey(taskId, attempt) },
      }),
      ...(ctx.partitionPlan && { partitionPlan: ctx.partitionPlan }),
      ...(ctx.parts && {
        output: {
          store: ctx.parts.store,
          key: attemptMapPartKey(
            ctx.parts.prefix,
            ctx.stage,
            this.#index,
            attempt,
            partExtension(ctx.parts.format),
          ),
          ...(ctx.parts.format && { format: ctx.parts.format }),
        },
      }),
    };
  }
}

/**
 * Partition p's non-empty slices of every committed map output (or merge of them), in order: what
 * reducer p reads. Made one at a time as they are read, afresh each time the list is iterated
 * (encodeInputList reads it twice).
 */
export function reduceInputs(
  ctx: StageContext,
  maps: readonly { result: ShuffleOutput }[],
  p: number,
): Iterable<ReduceInput> {
  return {
    *[Symbol.iterator]() {
      for (const { result } of maps) {
        const slice = sliceOf(result, p);
        if (slice && slice.length > 0) yield { store: ctx.workUrl, key: result.shuffleKey, slice };
      }
    },
  };
}

/**
 * Every partition's slice of each of a group's map outputs, empty ones included, output by output:
 * what one merge task reads (entry i is partition i % partitions).
 */
export function mergeInputs(
  ctx: StageContext,
  group: readonly { result: ShuffleOutput }[],
): Iterable<ReduceInput> {
  return {
    *[Symbol.iterator]() {
      for (const { result } of group) {
        for (let p = 0; p < ctx.partitions; p++) {
          const slice = sliceOf(result, p) ?? { offset: 0, length: 0, records: 0, crc: 0 };
          yield { store: ctx.workUrl, key: result.shuffleKey, slice };
        }
      }
    },
  };
}

/** The merge tasks of a stage, one per group and its stored input list. */
export function mergeTaskSpecs(
  ctx: StageContext,
  lists: readonly { group: number; count: number; crc: number; maps: number }[],
): TaskSpec<MergeTask>[] {
  return lists.map(({ group, count, crc, maps }) => {
    const taskId = mergeTaskId(ctx.stage, group);
    return {
      taskId,
      describe: `merge ${group} of stage ${ctx.stage} (${maps} map outputs)`,
      attempt: (attempt) => ({
        kind: 'merge',
        ...taskFields(ctx, taskId, attempt),
        partitions: ctx.partitions,
        inputs: { store: ctx.workUrl, key: mergeInputsKey(ctx.jobId, ctx.stage, group), count, crc },
        shuffleStore: ctx.workUrl,
        shuffleKey: shuffleKey(ctx.jobId, ctx.stage, taskId, attempt, fnv1a(taskId)),
      }),
    };
  });
}

/**
 * The reduce tasks of a stage, one per stored input list (its slice count and CRC-32, which the task
 * checks the list against). Each writes its part file under an attempt-scoped key below
 * `outPrefix` + `_temporary/` in the output store; the driver moves the committed one into place.
 */
export function reduceTaskSpecs(
  ctx: StageContext,
  lists: readonly { count: number; crc: number }[],
  output: PartsOutput,
): TaskSpec<ReduceTask>[] {
  return lists.map(({ count, crc }, p) => {
    const taskId = reduceTaskId(ctx.stage, p);
    return {
      taskId,
      describe: `partition ${p} of stage ${ctx.stage} (${count} map outputs)`,
      attempt: (attempt) => ({
        kind: 'reduce',
        ...taskFields(ctx, taskId, attempt),
        log: { store: ctx.workUrl, key: taskLogKey(ctx.jobId, taskId, attempt) },
        partition: p,
        inputs: { store: ctx.workUrl, key: reduceInputsKey(ctx.jobId, ctx.stage, p), count, crc },
        outputStore: output.store,
        outputKey: attemptPartKey(output.prefix, ctx.stage, p, attempt, partExtension(output.format)),
        ...(output.format && { outputFormat: output.format }),
      }),
    };
  });
}
