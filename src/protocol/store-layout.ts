/**
 * Every key the engine reads or writes in a store, built here and nowhere else, so the layout is one
 * table (README, "Store layout") and a job's state can be found by id alone. Keys are `/`-separated
 * and relative to the store's root; the layout is the same on every backend.
 *
 * Work store: `jobs/<job id>/` (state and intermediate data), `bundles/` (shipped job code),
 * `streams/<stream job>/<stream>-<id>/` (checkpoints, leases, dead letters of one stream as created).
 * Output folder: `_FANOUT`, part files, `_bad_records/`, `_temporary/` while tasks write, `_report/`,
 * `_SUCCESS` last.
 */

import { createHash } from 'node:crypto';

/** Top-level folders the engine writes in a work store; never read as input. */
export const WORK_FOLDERS = ['jobs', 'bundles', 'streams', 'triggers'] as const;

/** The marker a run puts in its output folder before anything else (see claimOutput). */
export const OUTPUT_MARKER = '_FANOUT';

/** Hadoop's name, kept: the output's success marker, written last. */
export const SUCCESS_MARKER = '_SUCCESS';

/** Beside the part files: the run's report (`report.json`, `index.html`), written before `_SUCCESS`. */
export const REPORT_DIR = '_report';
/** The report's data and its page, under REPORT_DIR in an output folder or under a job's state. */
export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'index.html';

/** Where attempts write part files before the driver moves the committed ones into place. */
export const TEMPORARY_DIR = '_temporary';

/** Beside the part files: the records skipped as bad, one file per map task that skipped any. */
export const BAD_RECORDS_DIR = '_bad_records';

const pad = (n: number) => String(n).padStart(5, '0');

/** A map task's id, stable across attempts: `s0-m00012`. */
export const mapTaskId = (stage: number, i: number): string => `s${stage}-m${pad(i)}`;
/** A stage's phases (as Phase in the driver: this module imports nothing). */
type TaskPhase = 'map' | 'merge' | 'reduce';

/** A merge task's id (group g of the combining tier), stable across attempts: `s0-g00002`. */
export const mergeTaskId = (stage: number, g: number): string => `s${stage}-g${pad(g)}`;
/** A reduce task's id, stable across attempts: `s0-r00003`. */
export const reduceTaskId = (stage: number, p: number): string => `s${stage}-r${pad(p)}`;
/** The part file reduce partition p writes, named for its format (`.jsonl`, `.csv.gz`, `.parquet`). */
export const partFileName = (p: number, ext = '.jsonl'): string => `part-${pad(p)}${ext}`;
/** The part file map task i of a map-only stage writes. */
export const mapPartFileName = (i: number, ext = '.jsonl'): string => `part-m-${pad(i)}${ext}`;

/** Everything of one job in the work store. */
export const jobPrefix = (jobId: string): string => `jobs/${jobId}/`;
/** What was asked: job name, input, output, options. */
export const jobSpecKey = (jobId: string): string => `${jobPrefix(jobId)}job.json`;
/** State (running, succeeded, failed, cancelled), counters, timings or the error. */
export const jobStatusKey = (jobId: string): string => `${jobPrefix(jobId)}status.json`;
/** The splits of each map task of a stage. */
export const stagePlanKey = (jobId: string, stage: number): string =>
  `${jobPrefix(jobId)}s${stage}/plan.json`;
/** A stage's partition plan, made from a sample of its input before its map phase (see PartitionPlan). */
export const partitionPlanKey = (jobId: string, stage: number): string =>
  `${jobPrefix(jobId)}s${stage}/partition-plan.json`;
/** The committed attempt of every task of a phase. */
export const manifestKey = (jobId: string, stage: number, phase: TaskPhase): string =>
  `${jobPrefix(jobId)}s${stage}/${phase}-manifest.json`;
/** Every task of a phase: its state, attempts and last error. */
export const taskStatusKey = (jobId: string, stage: number, phase: TaskPhase): string =>
  `${jobPrefix(jobId)}s${stage}/${phase}-tasks.json`;

/** The report of each run of a job (1, then one more per resume), kept with its state. */
export const runReportKey = (jobId: string, run: number): string => `${jobPrefix(jobId)}runs/${run}.json`;
export const runsPrefix = (jobId: string): string => `${jobPrefix(jobId)}runs/`;
/** Where a run that did not succeed leaves its report: with the job's state (its output is not complete). */
export const jobReportPrefix = (jobId: string): string => `${jobPrefix(jobId)}${REPORT_DIR}/`;
/** What job code logged in each task attempt (`ctx.log`), one file per attempt that logged. */
export const taskLogsPrefix = (jobId: string): string => `${jobPrefix(jobId)}logs/`;
export const taskLogKey = (jobId: string, taskId: string, attempt: number): string =>
  `${taskLogsPrefix(jobId)}${taskId}-a${attempt}.log`;

/**
 * Put here to cancel a running job (`mr cancel`, Ctrl-C): its driver stops launching tasks and its
 * running tasks stop at their next batch of records, on every backend.
 */
/** The id of the last job a schedule (or upload rule) started: `triggers/<name>/latest`. */
export const triggerLatestKey = (name: string): string => `triggers/${name}/latest`;
/** An upload rule's job and what it watches (`mr on-upload`). */
export const triggerRuleKey = (name: string): string => `triggers/${name}/rule.json`;
/** Written once per firing (a job id) or delivered object: a second delivery finds it and stops. */
export const triggerFiredKey = (name: string, id: string): string => `triggers/${name}/fired/${id}`;
export const cancelKey = (jobId: string): string => `${jobPrefix(jobId)}cancel`;

/**
 * One write of committed task attempts, made as the tasks commit: what a resumed run need not redo.
 * `name` is the writing driver's id and the write's number (see CommitLog). Runs before commit
 * records were grouped wrote one object per task, named by its task id.
 */
export const commitRecordsKey = (jobId: string, stage: number, phase: TaskPhase, name: string): string =>
  `${commitsPrefix(jobId, stage, phase)}${name}.json`;
export const commitsPrefix = (jobId: string, stage: number, phase: TaskPhase): string =>
  `${jobPrefix(jobId)}s${stage}/commits/${phase}/`;

/** A job's intermediate data, deleted after success. */
export const jobDataPrefix = (jobId: string): string => `${jobPrefix(jobId)}data/`;
/** One stage's intermediate data. */
export const stageDataPrefix = (jobId: string, stage: number): string => `${jobDataPrefix(jobId)}s${stage}/`;
/** A stage's shuffle objects. */
export const shufflePrefix = (jobId: string, stage: number): string =>
  `${stageDataPrefix(jobId, stage)}shuffle/`;
/**
 * The shuffle object of one map attempt: attempt-scoped so retries never collide, under one of 256
 * prefixes (`spread`, a hash of the task id) so writes spread over S3's partitions.
 */
export const shuffleKey = (jobId: string, stage: number, taskId: string, attempt: number, spread: number) =>
  `${shufflePrefix(jobId, stage)}${(spread & 0xff).toString(16).padStart(2, '0')}/${taskId}-a${attempt}.shf`;
/** Reducer p's list of slices: invocations carry this pointer, never the list itself. */
export const reduceInputsKey = (jobId: string, stage: number, p: number): string =>
  `${reduceInputsPrefix(jobId, stage)}${reduceTaskId(stage, p)}.json`;
/** Merge task g's list of slices (every partition of each of its group's map outputs). */
export const mergeInputsKey = (jobId: string, stage: number, g: number): string =>
  `${mergeInputsPrefix(jobId, stage)}${mergeTaskId(stage, g)}.json`;
/** Every merge task's list of slices of a stage. */
export const mergeInputsPrefix = (jobId: string, stage: number): string =>
  `${stageDataPrefix(jobId, stage)}merge-inputs/`;
/** Every reducer's list of slices of a stage, one per reduce task. */
export const reduceInputsPrefix = (jobId: string, stage: number): string =>
  `${stageDataPrefix(jobId, stage)}reduce-inputs/`;
/** Where a stage that is not the last writes its part files, in the work store. */
export const stageOutputPrefix = (jobId: string, stage: number): string =>
  `${stageDataPrefix(jobId, stage)}out/`;
/** One attempt's part file of a map-only stage's map task i, as attemptPartKey for a reducer's. */
export const attemptMapPartKey = (
  outputPrefix: string,
  stage: number,
  i: number,
  attempt: number,
  ext?: string,
): string => `${outputPrefix}${TEMPORARY_DIR}/${mapTaskId(stage, i)}-a${attempt}/${mapPartFileName(i, ext)}`;
/** One reduce attempt's part file, under `_temporary/` below the stage's output prefix. */
export const attemptPartKey = (
  outputPrefix: string,
  stage: number,
  p: number,
  attempt: number,
  ext?: string,
): string => `${outputPrefix}${TEMPORARY_DIR}/${reduceTaskId(stage, p)}-a${attempt}/${partFileName(p, ext)}`;

/** One map attempt's skipped records, in the output folder's `_temporary/` until it is committed. */
export const attemptBadRecordsKey = (taskId: string, attempt: number): string =>
  `${TEMPORARY_DIR}/${BAD_RECORDS_DIR}/${taskId}-a${attempt}.jsonl`;
/** A committed map task's skipped records in the output folder. */
export const badRecordsKey = (taskId: string): string => `${BAD_RECORDS_DIR}/${taskId}.jsonl`;

/** A shipped job bundle, named by the SHA-256 of its bytes. */
export const bundleKey = (sha256: string): string => `bundles/${sha256}.mjs`;
/** What a job file was last bundled into, locally: lets an unchanged job skip esbuild. */
export const bundleRecordKey = (jobFileHash: string): string => `bundles/${jobFileHash}.json`;

/**
 * What a stream job's keys are scoped by: the job, and one stream as it was created. Sequence numbers
 * mean something only within one stream, so a checkpoint of another stream, or of a stream since
 * deleted and created again under its name, must never be found (Kinesis refuses it, or worse, reads
 * on from a point that skips records).
 */
export interface StreamScope {
  job: string;
  /** The stream's name, for a readable listing. */
  stream: string;
  /** Short id of the stream's ARN and creation time (see streamKeyId). */
  streamId: string;
}

/** The id of one stream as created: 8 hex digits of the SHA-256 of its ARN and creation time. */
export const streamKeyId = (arn: string, createdAt: Date): string =>
  createHash('sha256').update(`${arn}\n${createdAt.getTime()}`).digest('hex').slice(0, 8);

/** Everything of one stream job in the work store. */
export const streamPrefix = (job: string): string => `streams/${job}/`;
/** Everything of one stream job on one stream: `streams/<job>/<stream>-<id>/`. */
export const streamScopePrefix = (s: StreamScope): string =>
  `${streamPrefix(s.job)}${s.stream}-${s.streamId}/`;
/** Per-shard checkpoints (with the shard's open tumbling window). */
export const checkpointsPrefix = (s: StreamScope): string => `${streamScopePrefix(s)}checkpoints/`;
export const checkpointKey = (s: StreamScope, shardId: string): string =>
  `${checkpointsPrefix(s)}${shardId}.json`;
/** Shard leases of consumers sharing a stream. */
export const leasesPrefix = (s: StreamScope): string => `${streamScopePrefix(s)}leases/`;
/** Dead letters kept in the store when no queue is configured. */
export const deadLettersPrefix = (s: StreamScope): string => `${streamScopePrefix(s)}dead-letters/`;
export const deadLetterKey = (s: StreamScope, shardId: string, sequenceNumber: string): string =>
  `${deadLettersPrefix(s)}${shardId}/${sequenceNumber}.json`;
