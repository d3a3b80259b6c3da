/** Where an error happened, carried on every FanoutError. */
export interface ErrorContext {
  jobId?: string;
  taskId?: string;
  attempt?: number;
  /** Human-readable description of the task's input, e.g. `data/a.txt[0, 67108864)`. */
  input?: string;
  /** Stream jobs: the shard and record involved. */
  shardId?: string;
  sequenceNumber?: string;
  /** The stored object at fault, as a key of the work store: a shuffle object that failed its checksum. */
  object?: string;
}

/** Base of every error Fanout raises; `retryable` says whether another attempt may succeed. */
export class FanoutError extends Error {
  override name = 'FanoutError';
  readonly retryable: boolean;
  readonly context: ErrorContext;
  /**
   * What else went wrong while the run handled this error (saving its state, cleaning up): shown
   * after it, never instead of it, so the first cause is the one a user reads.
   */
  readonly also: string[] = [];
  /**
   * Faults injected on purpose (FANOUT_FAULTS) in the attempt that failed, by `site:kind`: carried
   * back to the driver so the run's summary can count them.
   */
  faults?: Record<string, number>;
  /** Where the failed run's report was written (a path or URL), when it could be. */
  report?: string;

  constructor(
    message: string,
    options: { cause?: unknown; retryable?: boolean; context?: ErrorContext } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

/** A user mistake: a bad flag, a missing file, a bad job definition. Shown as one line, exit 2. */
export class UsageError extends FanoutError {
  override name = 'UsageError';
}

/** The job file does not define a valid job. */
export class JobDefinitionError extends UsageError {
  override name = 'JobDefinitionError';
}

/** User code (map, combine, reduce, partitioner) threw. Retryable: the failure may be transient. */
export class UserCodeError extends FanoutError {
  override name = 'UserCodeError';
}

/**
 * An emitted key or value that JSON cannot write, found where it is serialised (a circular object, a
 * BigInt inside one): deterministic, so never retried. The task's code turns it into a UserCodeError
 * that names map or reduce (see userCodeError).
 */
export class NotJsonError extends UserCodeError {
  override name = 'NotJsonError';
}

/** A worker thread exited or ran out of memory while running an attempt. */
export class WorkerCrashedError extends FanoutError {
  override name = 'WorkerCrashedError';
}

/** Stored bytes failed their checksum or framing check. */
export class CorruptDataError extends FanoutError {
  override name = 'CorruptDataError';
}

/**
 * Malformed input data, such as a line that is not JSON or a `.gz` file that is not gzip:
 * deterministic, so never retried.
 */
export class BadRecordError extends FanoutError {
  override name = 'BadRecordError';
}

/**
 * An input compressed in a format Fanout cannot decompress (zstd, bzip2, xz, zip, lz4): reading its
 * bytes as text would give garbage records, and no retry can fix it.
 */
export class UnreadableCompressionError extends BadRecordError {
  override name = 'UnreadableCompressionError';
}

/**
 * More records were bad than the job's `input.maxBadRecords` allows under `onBadRecord: 'skip'`:
 * deterministic, never retried. Not a BadRecordError: no one record is to blame.
 */
export class TooManyBadRecordsError extends FanoutError {
  override name = 'TooManyBadRecordsError';
}

/**
 * The TooManyBadRecordsError for `count` bad records against a limit of `max`, naming the first
 * (its file, line and reason).
 *
 * @example tooManyBadRecords(3, 2, '/data/a.jsonl line 2: bad JSON line: ...')
 */
export function tooManyBadRecords(count: number, max: number, first: string): TooManyBadRecordsError {
  return new TooManyBadRecordsError(
    `${count} bad records, more than maxBadRecords (${max}) allows; the first: ${first}`,
  );
}

/**
 * An input object changed, shrank or vanished between planning and reading: the job would count a
 * mix of versions, or miss records, so no retry can fix it; a rerun once the input is stable can.
 */
export class InputChangedError extends FanoutError {
  override name = 'InputChangedError';
}

/**
 * The InputChangedError for object `name`, listed at `planned` bytes: `now` is its size now, or
 * `'gone'`. The same size means it was rewritten in place.
 *
 * @example inputChanged('/data/big.txt', 50_000_000, 30_000_000)
 */
export function inputChanged(name: string, planned: number, now: number | 'gone'): InputChangedError {
  const what = now === planned ? `now ${now} but rewritten` : `now ${now}`;
  return new InputChangedError(
    `input ${name} changed while the job ran (planned ${planned} bytes, ${what}): rerun once it is stable`,
  );
}

/** A task exhausted its attempts; the job fails with this. */
export class TaskFailedError extends FanoutError {
  override name = 'TaskFailedError';
}

/** The run was cancelled through its AbortSignal (Ctrl-C in `mr`). */
export class JobCancelledError extends FanoutError {
  override name = 'JobCancelledError';
}

/**
 * The run reached its deadline (RunOptions.deadline) and stopped where it was, still `running` in
 * the store and resumable: how a driver near its function's time limit hands over to the next.
 */
export class JobPausedError extends FanoutError {
  override name = 'JobPausedError';
}

/** A shipped job bundle does not match the SHA-256 it was sent under: never imported, never retried. */
export class BundleIntegrityError extends FanoutError {
  override name = 'BundleIntegrityError';
}

/** Lambda refused an invocation for lack of capacity (HTTP 429): retry later, at lower concurrency. */
export class ThrottledError extends FanoutError {
  override name = 'ThrottledError';
}

/** The dead-letter destination refused a record: its lane stops and is not checkpointed past it. */
export class DeadLetterError extends FanoutError {
  override name = 'DeadLetterError';
}

/** A tumbling window's state grew past its limit (1 MB, as Lambda): deterministic, never retried. */
export class WindowStateTooLargeError extends FanoutError {
  override name = 'WindowStateTooLargeError';
}

/**
 * A stream consumer met an error no retry can fix (a checkpoint Kinesis refuses, access denied, the
 * stream deleted while being read) and stopped: its message names the stream and the shard.
 */
export class StreamFailedError extends FanoutError {
  override name = 'StreamFailedError';
}

/**
 * Records a later failure on the error being handled, as a note, so it never hides that error.
 * `what` says what could not be done, e.g. `could not save the task status`.
 */
export function noteAlso(err: unknown, what: string, later: unknown): void {
  if (err instanceof FanoutError)
    err.also.push(`${what}: ${later instanceof Error ? later.message : String(later)}`);
}

/** Plain data form of an error, safe to post between threads or send over the wire. */
export interface SerializedError {
  name: string;
  message: string;
  retryable: boolean;
  stack?: string;
  /** Context the error carried where it was raised (the object at fault), kept across the wire. */
  context?: ErrorContext;
  faults?: Record<string, number>;
}

/** Normalises anything thrown into a FanoutError, once, at a boundary. */
export function toFanoutError(err: unknown, fallback: typeof FanoutError = FanoutError): FanoutError {
  if (err instanceof FanoutError) return err;
  if (err instanceof Error) {
    const wrapped = new fallback(`${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`, {
      cause: err,
      retryable: true,
    });
    if (err.stack) wrapped.stack = err.stack;
    return wrapped;
  }
  return new fallback(`non-error thrown: ${String(err)}`, { retryable: true });
}

export function serializeError(err: unknown): SerializedError {
  const e = toFanoutError(err, UserCodeError);
  return {
    name: e.name,
    message: e.message,
    retryable: e.retryable,
    ...(e.stack ? { stack: e.stack } : {}),
    ...(Object.keys(e.context).length > 0 && { context: e.context }),
    ...(e.faults && { faults: e.faults }),
  };
}

const errorTypes: Record<string, typeof FanoutError> = {
  FanoutError,
  UsageError,
  JobDefinitionError,
  UserCodeError,
  NotJsonError,
  WorkerCrashedError,
  CorruptDataError,
  BadRecordError,
  UnreadableCompressionError,
  TooManyBadRecordsError,
  InputChangedError,
  TaskFailedError,
  JobCancelledError,
  BundleIntegrityError,
  ThrottledError,
  DeadLetterError,
  WindowStateTooLargeError,
  StreamFailedError,
};

/** Rebuilds a typed error from its serialized form. */
export function deserializeError(s: SerializedError, context: ErrorContext = {}): FanoutError {
  const Type = errorTypes[s.name] ?? FanoutError;
  const err = new Type(s.message, { retryable: s.retryable, context: { ...s.context, ...context } });
  if (s.stack) err.stack = s.stack;
  if (s.faults) err.faults = s.faults;
  return err;
}
