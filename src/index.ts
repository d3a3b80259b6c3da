/** Fanout's public API: define jobs, run them, and the types they use. */

export type { BackendName } from './backends/backends.js';
export type { Phase, ProgressEvent } from './driver/progress.js';
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
  NotJsonError,
  TaskFailedError,
  ThrottledError,
  TooManyBadRecordsError,
  UnreadableCompressionError,
  UsageError,
  UserCodeError,
  WindowStateTooLargeError,
  WorkerCrashedError,
} from './errors.js';
export { countTokens, emitSum, sum } from './job/builtins.js';
export { defineJob, isJob } from './job/define-job.js';
export type {
  BadRecordPolicy,
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
export type { ObjectStore } from './store/object-store.js';
export type { StreamHandle, StreamOptions } from './stream/consumer.js';
export { startStream } from './stream/consumer.js';
export type { DeadLetter } from './stream/dead-letters.js';
export { defineStream, isStream } from './stream/define-stream.js';
export type { LeaseManager } from './stream/lease-manager.js';
export { SoleOwner } from './stream/lease-manager.js';
export type { CheckpointEvent, ShardMetrics, StreamEvents, StreamMetrics } from './stream/stream-events.js';
export type {
  BatchResult,
  EmitContext,
  StartingPosition,
  Stream,
  StreamContext,
  StreamDefinition,
  StreamRecord,
  WindowDefinition,
  WindowInfo,
} from './stream/types.js';
