/** Fanout's public API: define jobs, run them, and the types they use. */

export type { Phase, ProgressEvent } from './driver/progress.js';
export type { JobCounters, JobResult, StageSummary } from './driver/run-job.js';
export { runJob } from './driver/run-job.js';
export type { RunOptions } from './driver/run-options.js';
export {
  BadRecordError,
  CorruptDataError,
  FanoutError,
  JobCancelledError,
  JobDefinitionError,
  TaskFailedError,
  UsageError,
  UserCodeError,
  WorkerCrashedError,
} from './errors.js';
export { defineJob, isJob } from './job/define-job.js';
export type {
  Emit,
  InputSpec,
  Job,
  JobDefinition,
  Json,
  KeyValue,
  Logger,
  MultiStageJob,
  RecordOf,
  SingleStageJob,
  StageDefinition,
  TaskContext,
} from './job/types.js';
