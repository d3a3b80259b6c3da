import type { SerializedError } from '../errors.js';
import type { Task, TaskResult } from './task-types.js';

/** Where a shipped job bundle lives and what it must hash to: all an invocation carries of the code. */
export interface BundleRef {
  /** URL of the store holding the bundle, as `openStore` takes it (`file:///…`, `s3://bucket/prefix/`). */
  store: string;
  /** Key of the bundle in that store: `bundles/<sha256>.mjs`. */
  key: string;
  /** Lowercase hex SHA-256 of the bundle's bytes, checked before the bundle is imported. */
  sha256: string;
  bytes: number;
}

/** The payload of one Lambda invocation: one task attempt and a pointer to the job's code. */
export interface LambdaEvent {
  task: Task;
  bundle: BundleRef;
}

/** What the runtime function returns; task failures are data here, never a Lambda function error. */
export type LambdaReply = { ok: true; result: TaskResult } | { ok: false; error: SerializedError };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks the shape of an invocation event before anything trusts it; the task's own fields are
 * checked by the task code. The hash must be plain hex because it names a file in /tmp.
 * @throws {TypeError} naming the first field that is missing or malformed.
 */
export function parseLambdaEvent(event: unknown): LambdaEvent {
  const e = event as { task?: unknown; bundle?: unknown } | null;
  if (typeof e !== 'object' || e === null) throw new TypeError('event must be an object { task, bundle }');
  const task = e.task as Partial<Task> | null | undefined;
  if (typeof task !== 'object' || task === null) throw new TypeError('event.task must be an object');
  if (
    task.kind !== 'map' &&
    task.kind !== 'merge' &&
    task.kind !== 'reduce' &&
    task.kind !== 'stream-batch'
  ) {
    throw new TypeError(
      `event.task.kind must be "map", "merge", "reduce" or "stream-batch", got ${JSON.stringify(task.kind)}`,
    );
  }
  if (typeof task.taskId !== 'string' || typeof task.jobId !== 'string' || typeof task.attempt !== 'number') {
    throw new TypeError('event.task must carry jobId, taskId and attempt');
  }
  const b = e.bundle as Partial<BundleRef> | null | undefined;
  if (typeof b !== 'object' || b === null) throw new TypeError('event.bundle must be an object');
  if (typeof b.store !== 'string' || typeof b.key !== 'string' || typeof b.bytes !== 'number') {
    throw new TypeError('event.bundle must carry store, key, sha256 and bytes');
  }
  if (typeof b.sha256 !== 'string' || !SHA256_HEX.test(b.sha256)) {
    throw new TypeError(
      `event.bundle.sha256 must be 64 lowercase hex digits, got ${JSON.stringify(b.sha256)}`,
    );
  }
  return { task: task as Task, bundle: b as BundleRef };
}
