import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { BackendName } from '../backends/backends.js';
import { FanoutError, StreamFailedError, UsageError } from '../errors.js';
import type { StreamMetrics } from '../stream/consumer/stream-events.js';
import { runStream } from '../stream/run-stream.js';
import { formatFaults } from '../task/faults.js';
import { parseCount } from './parse-size.js';

/** Flags of `mr stream`, as commander hands them over. */
export interface StreamFlags {
  stream?: string;
  backend?: string;
  duration?: string;
  work?: string;
  region?: string;
  function?: string;
  concurrency?: string;
  shared?: boolean;
  autoTune?: boolean;
  leaseMs?: string;
  quiet?: boolean;
}

/**
 * `mr stream`: consumes a Kinesis stream with a stream job until SIGINT/SIGTERM or `--duration`,
 * printing a metrics line to stderr every few seconds; a clean stop checkpoints and returns.
 * @throws {UsageError} for a bad flag or job file.
 * @throws {StreamFailedError} when the consumer stopped on an error no retry can fix (exit 1).
 * @throws {FanoutError} when a shard halted on an error that retrying cannot cure (exit 1).
 */
export async function streamCommand(jobArg: string, flags: StreamFlags): Promise<void> {
  if (!existsSync(jobArg)) throw new UsageError(`job file not found: ${jobArg}`);
  const duration = flags.duration === undefined ? undefined : parseCount(flags.duration, '--duration');
  const leaseMs = flags.leaseMs === undefined ? undefined : parseCount(flags.leaseMs, '--lease-ms');
  const stream = await runStream(jobArg, {
    // Checked by runStream against the backends there are.
    ...(flags.backend !== undefined && { backend: flags.backend as BackendName }),
    ...(flags.function !== undefined && { functionName: flags.function }),
    ...(flags.region !== undefined && { region: flags.region }),
    ...(flags.work !== undefined && { workDir: flags.work }),
    ...(flags.stream !== undefined && { stream: flags.stream }),
    ...(flags.concurrency !== undefined && { concurrency: parseCount(flags.concurrency, '--concurrency') }),
    // Shared: shard leases in the store, so several `mr stream` processes split the shards between them.
    ...(flags.shared && {
      shared: {
        owner: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
        ...(leaseMs !== undefined && { leaseMs }),
      },
    }),
    ...(flags.autoTune && { autoTune: true }),
  });
  const name = stream.job.name;
  const errors: string[] = [];
  let usage: UsageError | undefined;
  let failed: StreamFailedError | undefined;
  let finishNow = () => {};
  stream.on('error', (e) => {
    // An error no retry can fix has stopped the consumer: the run ends now, with that one line.
    if (e instanceof StreamFailedError) {
      failed ??= e;
      finishNow();
      return;
    }
    // A user mistake found while running (no such stream) ends the run as a one-line usage error.
    if (e instanceof UsageError) {
      usage ??= e;
      finishNow();
      return;
    }
    // Retryable errors are retried by the consumer; only a halted shard makes the run fail.
    if (!e.retryable) errors.push(e.message);
    process.stderr.write(`mr stream: error: ${e.message}\n`);
  });
  stream.on('metrics', (m) => {
    if (!flags.quiet && !usage) process.stderr.write(`${formatMetrics(name, m)}\n`);
  });
  await new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      resolve();
    };
    const timer = duration === undefined ? undefined : setTimeout(finish, duration * 1000);
    finishNow = finish;
    process.on('SIGINT', finish);
    process.on('SIGTERM', finish);
  });
  // A second signal while stopping exits at once; the checkpoints make that safe (at-least-once).
  const now = () => process.exit(130);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  try {
    await stream.stop();
  } finally {
    process.off('SIGINT', now);
    process.off('SIGTERM', now);
  }
  if (usage) throw usage;
  if (failed) throw failed;
  if (errors.length > 0)
    throw new FanoutError(`stream ${name} stopped with ${errors.length} error(s); first: ${errors[0]}`);
}

/** One metrics line: throughput, totals, and each shard's iterator age. */
export function formatMetrics(name: string, m: StreamMetrics): string {
  const ages = m.shards
    .map((s) => `${s.shardId.replace(/^shardId-0*(?=\d)/, '#')}:${s.millisBehind ?? '?'}ms`)
    .join(' ');
  return (
    `mr stream ${name}: ${m.recordsPerSecond} rec/s, ${m.records} records, ${m.inFlight} in flight, ` +
    `${m.retries} retries, ${m.deadLetters} dead letters, ${m.throttles} throttles` +
    `${m.faults ? `, faults injected ${formatFaults(m.faults)}` : ''}; age ${ages || '-'}`
  );
}
