/** Fanout's public API: define jobs, run them, and the types they use. */

export type { BackendName } from './backends/backends.js';
export type { BenchEvent, BenchOptions, BenchPoint, BenchResult, BenchRun } from './bench/run-bench.js';
export { runBench } from './bench/run-bench.js';
export { cancelJob } from './driver/cancel-job.js';
export type { JobNotice } from './driver/notify.js';
export type { Phase, ProgressEvent } from './driver/progress.js';
export type { ResumeOptions, ResumeOutcome } from './driver/resume-job.js';
export { resumeJob } from './driver/resume-job.js';
export type { JobCounters, JobResult, StageSummary } from './driver/run-job.js';
export { runJob } from './driver/run-job.js';
export type { RunOptions } from './driver/run-options.js';
export {
  BadRecordError,
  BundleIntegrityError,
  CorruptDataError,
  DeadLetterError,
  FanoutError,
  InputChangedError,
  JobCancelledError,
  JobDefinitionError,
  JobPausedError,
  NotJsonError,
  StreamFailedError,
  TaskFailedError,
  ThrottledError,
  TooManyBadRecordsError,
  UnreadableCompressionError,
  UsageError,
  UserCodeError,
  WindowStateTooLargeError,
  WorkerCrashedError,
} from './errors.js';
export { countTokens, emitEach, emitSum, sum } from './job/builtins.js';
export { defineJob, isJob } from './job/define-job.js';
export { compareKeys } from './job/key-order.js';
export type { RangePartitionerOptions, RangePartitioning } from './job/range-partitioner.js';
export { rangePartitioner } from './job/range-partitioner.js';
export { jsonl, parquet } from './job/typed-inputs.js';
export type {
  BadRecordPolicy,
  ColumnType,
  Emit,
  EmitRecord,
  InputFile,
  InputSpec,
  Job,
  JobOptions,
  Json,
  KeyValue,
  Logger,
  MapContext,
  MapOnlyStage,
  MultiStageJob,
  OutputFormat,
  OutputOf,
  OutputSpec,
  PartitionPlan,
  RecordOf,
  ReduceStage,
  StageDefinition,
  TaskContext,
  TypedInput,
} from './job/types.js';
export type { PhaseEstimate, PlanEstimate, StageEstimate } from './plan/estimate.js';
export type { Calibration, JobPlan, PlanOptions } from './plan/plan-job.js';
export { planJob } from './plan/plan-job.js';
export type { PlanModel } from './sim/cloud-model.js';
export { DEFAULT_MODEL } from './sim/cloud-model.js';
export type { ObjectStore } from './store/object-store.js';
export type { DeadLetter } from './stream/consumer/dead-letters.js';
export type { LeaseManager } from './stream/consumer/lease-manager.js';
export { SoleOwner } from './stream/consumer/lease-manager.js';
export type { ShardLease, ShardLeasesOptions } from './stream/consumer/shard-leases.js';
export { ShardLeases } from './stream/consumer/shard-leases.js';
export type { StreamHandle } from './stream/consumer/start-stream.js';
export { startStream } from './stream/consumer/start-stream.js';
export type {
  CheckpointEvent,
  ShardMetrics,
  StreamEvents,
  StreamMetrics,
} from './stream/consumer/stream-events.js';
export type { SharedLeases, StreamOptions } from './stream/consumer/stream-options.js';
export { defineStream, isStream } from './stream/define-stream.js';
export type { RunningStream, RunStreamOptions } from './stream/run-stream.js';
export { runStream } from './stream/run-stream.js';
export type {
  BatchResult,
  EmitContext,
  FailedRecord,
  ProcessRecords,
  StartingPosition,
  Stream,
  StreamContext,
  StreamDefinition,
  StreamRecord,
  WindowDefinition,
  WindowInfo,
} from './stream/types.js';
