import { JobDefinitionError, UsageError } from '../errors.js';
import { type OutputSpec, resolveOutputSpec } from '../output/output-spec.js';
import { builtinOf } from './builtins.js';
import type {
  BadRecordPolicy,
  InputSpec,
  Job,
  JobOptions,
  KeyValue,
  MapOnlyStage,
  MultiStageJob,
  RecordOf,
  ReduceStage,
  StageDefinition,
} from './types.js';

/** Reduce partitions of a stage that sets none and is given none by the run options. */
export const DEFAULT_PARTITIONS = 8;
export const MAX_PARTITIONS = 100_000;

/**
 * Declares a job. Validates it at once so a bad job fails before any data is read. Give it the
 * first stage's functions (a `reduce` or not), or none and add stages with `.stage()`: each later
 * stage's `map` receives the records of the stage before, typed. Annotate each `emit` once and the
 * key and value types flow into `combine` and `reduce`.
 *
 * @example
 * export default defineJob({
 *   name: 'wordcount',
 *   input: { format: 'text' },
 *   map(line, emit: Emit<string, number>) { for (const w of line.split(/\s+/)) if (w) emit(w, 1); },
 *   combine: (_word, counts) => counts.reduce((a, b) => a + b, 0),
 *   reduce(word, counts, emit: Emit<string, number>) { let n = 0; for (const c of counts) n += c; emit(word, n); },
 * });
 * @throws {JobDefinitionError} when a required function is missing or an option is out of range.
 */
export function defineJob<
  const I extends InputSpec = { format: 'text' },
  K = unknown,
  V = unknown,
  KO = unknown,
  VO = unknown,
>(def: JobOptions<I> & ReduceStage<RecordOf<I>, K, V, KO, VO>): Job<KeyValue<KO, VO>>;
export function defineJob<const I extends InputSpec = { format: 'text' }, O = unknown>(
  def: JobOptions<I> & MapOnlyStage<RecordOf<I>, O>,
): Job<O>;
export function defineJob(def: MultiStageJob): Job;
export function defineJob<const I extends InputSpec = { format: 'text' }>(
  def: JobOptions<I> & { map?: undefined; stages?: undefined },
): Job<RecordOf<I>>;
export function defineJob(def: object): Job {
  return validateJob(def as JobDefinitionInput);
}

/** What defineJob is given, as it checks it: any of its overloads' shapes, loosely. */
type JobDefinitionInput = JobOptions & { stages?: StageDefinition[] } & Partial<StageDefinition>;

export function isJob(value: unknown): value is Job {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'fanout.job';
}

/** The job's stages: its list, its first stage given inline, or none yet (stages come by `.stage()`). */
function stagesOf(def: JobDefinitionInput): StageDefinition[] {
  if ('stages' in def && def.stages !== undefined) {
    if (!Array.isArray(def.stages) || def.stages.length === 0) {
      throw new JobDefinitionError(`job ${def.name}: stages must be a non-empty array`);
    }
    return def.stages;
  }
  if (def.map !== undefined || def.reduce !== undefined) return [def as StageDefinition];
  return [];
}

function validateJob(def: JobDefinitionInput): Job {
  if (typeof def !== 'object' || def === null) throw new JobDefinitionError('defineJob expects an object');
  if (typeof def.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(def.name)) {
    throw new JobDefinitionError(
      `job name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(def.name)}`,
    );
  }
  const input = validateInput(def.input ?? { format: 'text' }, def.name);
  const output = def.output === undefined ? undefined : validateOutput(def.output, def.name);
  const listed = 'stages' in def && def.stages !== undefined;
  const stages = stagesOf(def).map((s, i) => checkedStage(s, i, def.name, input, listed));
  return jobOf(def.name, input, output, stages);
}

/** A stage checked as stage `i` of the job (`listed`: named by its index in messages). */
function checkedStage(
  s: StageDefinition,
  i: number,
  job: string,
  input: InputSpec,
  listed: boolean,
): StageDefinition {
  const where = `job ${job}${listed || i > 0 ? ` stage ${i}` : ''}`;
  // Only the first stage reads the input; later ones map the records of the stage before.
  const records = i === 0 ? `${input.format} records` : 'the records of the stage before';
  if (builtinOf(s?.map) === 'count-tokens' && records !== 'text records') {
    throw new JobDefinitionError(`${where}: countTokens maps text lines, but this stage reads ${records}`);
  }
  return validateStage(s, where);
}

/** The frozen job, whose `.stage(next)` checks `next` and gives a job with it added. */
function jobOf(
  name: string,
  input: InputSpec,
  output: OutputSpec | undefined,
  stages: readonly StageDefinition[],
): Job {
  const job = {
    kind: 'fanout.job' as const,
    name,
    input,
    ...(output && { output }),
    stages: Object.freeze([...stages]),
    stage(next: StageDefinition): Job {
      return jobOf(name, input, output, [...stages, checkedStage(next, stages.length, name, input, true)]);
    },
  };
  return Object.freeze(job) as Job;
}

/** The job's `output`, checked as the run options' are, in the job's words. */
function validateOutput(output: unknown, job: string): OutputSpec {
  try {
    return resolveOutputSpec(output, {}, `job ${job}: output`);
  } catch (err) {
    if (err instanceof UsageError) throw new JobDefinitionError(err.message);
    throw err;
  }
}

/** @throws {JobDefinitionError} for a job with no stage: one made with `defineJob` and no `map`. */
export function checkHasStages(job: Job): Job {
  if (job.stages.length === 0) {
    throw new JobDefinitionError(
      `job ${job.name} has no stages: give defineJob a map (and a reduce), or add stages with .stage()`,
    );
  }
  return job;
}

function validateInput(input: InputSpec, job: string): InputSpec {
  const policy = validatePolicy(input, job);
  switch (input.format) {
    case 'text':
    case 'jsonl':
      return { format: input.format, ...policy };
    case 'csv': {
      const delimiter = input.delimiter ?? ',';
      if (
        typeof delimiter !== 'string' ||
        delimiter.length !== 1 ||
        delimiter === '"' ||
        delimiter === '\n'
      ) {
        throw new JobDefinitionError(
          `job ${job}: csv delimiter must be one character, got ${JSON.stringify(delimiter)}`,
        );
      }
      const header = input.header === true;
      const columns = validateColumns(input.columns, header, job);
      return { format: 'csv', delimiter, header, ...(columns && { columns }), ...policy };
    }
    case 'parquet': {
      // Pages are checksummed and typed: what cannot be decoded is a broken file, not a bad line.
      if (policy.onBadRecord === 'skip') {
        throw new JobDefinitionError(
          `job ${job}: onBadRecord: 'skip' does not apply to parquet input: a Parquet file has no bad lines to skip`,
        );
      }
      const columns = validateParquetColumns(input.columns, job);
      return { format: 'parquet', ...(columns && { columns }) };
    }
    default:
      throw new JobDefinitionError(
        `job ${job}: input.format must be 'text', 'jsonl', 'csv' or 'parquet', got ${JSON.stringify((input as { format: unknown }).format)}`,
      );
  }
}

/** A csv input's `columns`: positions or, with a header, names; none twice. */
function validateColumns(
  columns: unknown,
  header: boolean,
  job: string,
): readonly number[] | readonly string[] | undefined {
  if (columns === undefined) return undefined;
  const bad = (why: string) => new JobDefinitionError(`job ${job}: csv columns ${why}`);
  if (!Array.isArray(columns) || columns.length === 0)
    throw bad(
      `must be a non-empty array of column positions or header names, got ${JSON.stringify(columns)}`,
    );
  if (new Set(columns).size !== columns.length) throw bad(`name a column twice: ${JSON.stringify(columns)}`);
  if (columns.every((c) => Number.isInteger(c) && c >= 0 && c < 100_000)) return Object.freeze([...columns]);
  if (columns.every((c) => typeof c === 'string' && c !== '')) {
    if (!header) throw bad(`by name need header: true (or give positions): ${JSON.stringify(columns)}`);
    return Object.freeze([...columns]);
  }
  throw bad(`must be all positions (integers from 0) or all header names, got ${JSON.stringify(columns)}`);
}

/** A parquet input's `columns`: top-level column names, none twice. */
function validateParquetColumns(columns: unknown, job: string): readonly string[] | undefined {
  if (columns === undefined) return undefined;
  if (
    !Array.isArray(columns) ||
    columns.length === 0 ||
    !columns.every((c) => typeof c === 'string' && c !== '')
  ) {
    throw new JobDefinitionError(
      `job ${job}: parquet columns must be a non-empty array of column names, got ${JSON.stringify(columns)}`,
    );
  }
  if (new Set(columns).size !== columns.length) {
    throw new JobDefinitionError(
      `job ${job}: parquet columns name a column twice: ${JSON.stringify(columns)}`,
    );
  }
  return Object.freeze([...columns]);
}

/**
 * The input's bad-record policy: nothing for the default (fail), or skip with its limit. The limit
 * has no default: how many records may be left out of a result is the job's decision to make.
 */
function validatePolicy(input: InputSpec, job: string): BadRecordPolicy {
  const { onBadRecord, maxBadRecords } = input as { onBadRecord?: unknown; maxBadRecords?: unknown };
  const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  if (onBadRecord === undefined || onBadRecord === 'fail') {
    if (maxBadRecords !== undefined) {
      throw new JobDefinitionError(
        `job ${job}: input.maxBadRecords applies only with onBadRecord: 'skip', got onBadRecord ${shown(onBadRecord)}`,
      );
    }
    return {};
  }
  if (onBadRecord !== 'skip') {
    throw new JobDefinitionError(
      `job ${job}: input.onBadRecord must be 'fail' or 'skip', got ${shown(onBadRecord)}`,
    );
  }
  if (typeof maxBadRecords !== 'number' || !Number.isSafeInteger(maxBadRecords) || maxBadRecords < 0) {
    throw new JobDefinitionError(
      `job ${job}: input.maxBadRecords must be a non-negative integer with onBadRecord: 'skip', got ${shown(maxBadRecords)}`,
    );
  }
  return { onBadRecord: 'skip', maxBadRecords };
}

function validateStage(s: StageDefinition, where: string): StageDefinition {
  if (typeof s !== 'object' || s === null)
    throw new JobDefinitionError(`${where}: a stage must be an object`);
  if (typeof s.map !== 'function') throw new JobDefinitionError(`${where}: map must be a function`);
  if (s.reduce === undefined) return validateMapOnly(s, where);
  if (typeof s.reduce !== 'function')
    throw new JobDefinitionError(`${where}: reduce must be a function when given`);
  if (s.combine !== undefined && typeof s.combine !== 'function') {
    throw new JobDefinitionError(`${where}: combine must be a function when given`);
  }
  if (s.partitioner !== undefined && typeof s.partitioner !== 'function') {
    throw new JobDefinitionError(`${where}: partitioner must be a function when given`);
  }
  if (s.partitions !== undefined) checkPartitions(s.partitions, where);
  if (s.partitionPlan !== undefined) checkPartitionPlan(s, where);
  if (s.sortKeys !== undefined && typeof s.sortKeys !== 'boolean') {
    throw new JobDefinitionError(`${where}: sortKeys must be true or false when given`);
  }
  return s;
}

/**
 * A stage without `reduce` is map-only: what `map` emits goes straight to part files, so there is
 * no shuffle for the options of one to shape.
 */
function validateMapOnly(s: StageDefinition, where: string): StageDefinition {
  for (const option of ['combine', 'partitions', 'partitioner', 'partitionPlan', 'sortKeys'] as const) {
    if (s[option] !== undefined) {
      throw new JobDefinitionError(
        `${where}: ${option} applies only to a stage with a reduce; a map-only stage writes what map emits as it is`,
      );
    }
  }
  if (builtinOf(s.map) === 'count-tokens') {
    throw new JobDefinitionError(
      `${where}: countTokens emits (token, 1) pairs for a reduce; this stage has none`,
    );
  }
  return s;
}

/** Most records a partition plan may sample: the driver holds them, and their keys, at once. */
export const MAX_PLAN_SAMPLE = 1_000_000;

function checkPartitionPlan(s: StageDefinition, where: string): void {
  const plan = s.partitionPlan as { sample?: unknown; make?: unknown } | null;
  if (typeof plan !== 'object' || plan === null) {
    throw new JobDefinitionError(`${where}: partitionPlan must be an object { sample, make }`);
  }
  const { sample, make } = plan;
  if (typeof sample !== 'number' || !Number.isInteger(sample) || sample < 1 || sample > MAX_PLAN_SAMPLE) {
    throw new JobDefinitionError(
      `${where}: partitionPlan.sample must be an integer in 1..${MAX_PLAN_SAMPLE}, got ${String(sample)}`,
    );
  }
  if (typeof make !== 'function')
    throw new JobDefinitionError(`${where}: partitionPlan.make must be a function`);
  // The plan is made for the partitioner alone: without one it would be sampled for nothing.
  if (s.partitioner === undefined) {
    throw new JobDefinitionError(`${where}: partitionPlan needs a partitioner to give its plan to`);
  }
}

/** @throws {JobDefinitionError} unless `n` is a whole number of partitions in range. */
export function checkPartitions(n: number, where: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new JobDefinitionError(`${where}: partitions must be an integer in 1..${MAX_PARTITIONS}, got ${n}`);
  }
  return n;
}
