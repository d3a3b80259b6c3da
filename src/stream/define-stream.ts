import { JobDefinitionError } from '../errors.js';
import type { Json } from '../job/types.js';
import type { BatchResult, StartingPosition, Stream, StreamDefinition, WindowDefinition } from './types.js';

/** Defaults of a stream job, in one place. */
export const STREAM_DEFAULTS = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 100,
  batchWindowMs: 0,
  parallelization: 1,
  maxRetries: 3,
  maxRecordAgeMs: -1,
  bisectOnError: true,
} as const;

/** Lambda's limits, which the consumer keeps so a job behaves the same on either. */
const LIMITS = { batchSize: 10_000, batchWindowMs: 300_000, parallelization: 10, windowMs: 900_000 };

/**
 * Declares a stream job. Validates it at once so a bad job fails before any shard is read.
 *
 * @example
 * export default defineStream({
 *   name: 'clicks',
 *   stream: 'clicks',
 *   async process(records) { for (const r of records) console.log(r.json()); },
 * });
 * @throws {JobDefinitionError} when `process` is missing or an option is out of range.
 */
export function defineStream<S = Json>(def: StreamDefinition<S>): Stream {
  if (typeof def !== 'object' || def === null) throw new JobDefinitionError('defineStream expects an object');
  if (typeof def.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(def.name)) {
    throw new JobDefinitionError(
      `stream job name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(def.name)}`,
    );
  }
  const where = `stream job ${def.name}`;
  if (typeof def.stream !== 'string' || def.stream.length === 0) {
    throw new JobDefinitionError(
      `${where}: stream must be a stream name or ARN, got ${JSON.stringify(def.stream)}`,
    );
  }
  const int = (key: string, value: unknown, min: number, max: number, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new JobDefinitionError(
        `${where}: ${key} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const d = STREAM_DEFAULTS;
  const batchSize = int('batchSize', def.batchSize, 1, LIMITS.batchSize, d.batchSize);
  const batchWindowMs = int('batchWindowMs', def.batchWindowMs, 0, LIMITS.batchWindowMs, d.batchWindowMs);
  const parallelization = int(
    'parallelization',
    def.parallelization,
    1,
    LIMITS.parallelization,
    d.parallelization,
  );
  const maxRetries = int('maxRetries', def.maxRetries, -1, 10_000, d.maxRetries);
  const maxRecordAgeMs = int('maxRecordAgeMs', def.maxRecordAgeMs, -1, 7 * 24 * 3_600_000, d.maxRecordAgeMs);
  if (def.bisectOnError !== undefined && typeof def.bisectOnError !== 'boolean') {
    throw new JobDefinitionError(
      `${where}: bisectOnError must be true or false, got ${JSON.stringify(def.bisectOnError)}`,
    );
  }
  if (def.dlq !== undefined && (typeof def.dlq !== 'string' || def.dlq.length === 0)) {
    throw new JobDefinitionError(
      `${where}: dlq must be an SQS queue name or URL, got ${JSON.stringify(def.dlq)}`,
    );
  }
  const window = validateWindow(def.window as WindowDefinition<unknown> | undefined, where);
  if (def.process !== undefined && typeof def.process !== 'function') {
    throw new JobDefinitionError(`${where}: process must be a function`);
  }
  if (def.process === undefined && window === undefined) {
    throw new JobDefinitionError(`${where}: process must be a function (or give a window)`);
  }
  // Window state is one value per shard folded in sequence order, which parallel lanes would break.
  if (window && parallelization > 1) {
    throw new JobDefinitionError(`${where}: a window needs parallelization 1, got ${parallelization}`);
  }
  const userProcess = def.process?.bind(def);
  return Object.freeze({
    kind: 'fanout.stream' as const,
    name: def.name,
    stream: def.stream,
    startingPosition: validatePosition(def.startingPosition ?? d.startingPosition, where),
    batchSize,
    batchWindowMs,
    parallelization,
    maxRetries,
    maxRecordAgeMs,
    bisectOnError: def.bisectOnError ?? d.bisectOnError,
    dlq: def.dlq,
    window,
    async process(records, ctx): Promise<BatchResult | undefined> {
      if (!userProcess) return undefined;
      const result = await userProcess(records, ctx);
      return result ?? undefined;
    },
  } satisfies Stream);
}

/** True for a value made by `defineStream`. */
export function isStream(value: unknown): value is Stream {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'fanout.stream'
  );
}

function validatePosition(p: StartingPosition, where: string): StartingPosition {
  if (p === 'TRIM_HORIZON' || p === 'LATEST') return p;
  if (
    typeof p === 'object' &&
    p !== null &&
    p.timestamp instanceof Date &&
    !Number.isNaN(p.timestamp.getTime())
  ) {
    return { timestamp: p.timestamp };
  }
  throw new JobDefinitionError(
    `${where}: startingPosition must be 'TRIM_HORIZON', 'LATEST' or { timestamp: Date }, got ${JSON.stringify(p)}`,
  );
}

function validateWindow(
  w: WindowDefinition<unknown> | undefined,
  where: string,
): WindowDefinition<unknown> | undefined {
  if (w === undefined) return undefined;
  if (typeof w !== 'object' || w === null) throw new JobDefinitionError(`${where}: window must be an object`);
  if (!Number.isInteger(w.ms) || w.ms < 1 || w.ms > LIMITS.windowMs) {
    throw new JobDefinitionError(
      `${where}: window.ms must be an integer in 1..${LIMITS.windowMs}, got ${JSON.stringify(w.ms)}`,
    );
  }
  if (typeof w.reduce !== 'function')
    throw new JobDefinitionError(`${where}: window.reduce must be a function`);
  if (typeof w.emit !== 'function') throw new JobDefinitionError(`${where}: window.emit must be a function`);
  return w;
}
