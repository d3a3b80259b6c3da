import {
  DEV_BUCKET,
  DEV_FUNCTION,
  type DevStack,
  type DevStackOptions,
  startDevStack,
} from '../dev/dev-stack.js';
import { FanoutError, UsageError } from '../errors.js';

/** Flags of `mr dev`, as commander hands them over. */
export interface DevFlags {
  portBase?: string;
  data?: string;
}

/** Where stop signals come from: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  once(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/** What `mr dev` reaches outside itself; tests replace any of it. */
export interface DevDeps {
  start?: (options: DevStackOptions) => Promise<DevStack>;
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  /** Where SIGINT and SIGTERM arrive. @default process */
  signals?: SignalSource;
}

/**
 * S3 on 4600, Lambda on 4601, Kinesis on 4602, SQS on 4603, EventBridge Scheduler on 4604 and
 * EventBridge on 4605: beside LocalStack's 4566, not on it.
 */
export const DEFAULT_PORT_BASE = 4600;

/** Validates `--port-base`: 0 (free ports) or a base whose six ports are unprivileged. */
export function parsePortBase(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT_BASE;
  const n = Number(text);
  if (!/^\d+$/.test(text) || (n !== 0 && (n < 1024 || n > 65530))) {
    throw new UsageError(
      `--port-base must be 0 (any free ports) or 1024 to 65530, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/**
 * `mr dev`: starts the local AWS stack, prints one `export NAME=value` line per variable on stdout
 * (and nothing else there, so the output can be sourced), and keeps it up until SIGINT or SIGTERM.
 * Every emulator is stopped before this returns, whatever happened.
 * @throws {UsageError} on a bad flag, a missing emulator package or a port in use.
 * @throws {FanoutError} when an emulator dies while the stack is up.
 */
export async function devCommand(flags: DevFlags, deps: DevDeps = {}): Promise<void> {
  const portBase = parsePortBase(flags.portBase);
  const { start = startDevStack, stdout = process.stdout, stderr = process.stderr, signals = process } = deps;
  // Handlers go in before anything starts: a Ctrl-C during start-up must still stop the children.
  let gotSignal = false;
  let onSignal: () => void = () => {};
  const signalled = new Promise<'signal'>((resolve) => {
    onSignal = () => {
      gotSignal = true;
      resolve('signal');
    };
  });
  signals.once('SIGINT', onSignal);
  signals.once('SIGTERM', onSignal);
  let stack: DevStack | undefined;
  try {
    stderr.write(
      'mr dev: starting S3, Lambda, Kinesis, SQS and EventBridge Scheduler emulators on 127.0.0.1...\n',
    );
    stack = await start({ portBase, ...(flags.data !== undefined && { dataDir: flags.data }) }).catch(
      (err: unknown) => {
        throw portInUse(err, portBase) ?? err;
      },
    );
    if (gotSignal) return;
    for (const [name, value] of Object.entries(stack.env)) stdout.write(`export ${name}=${value}\n`);
    const e = stack.endpoints;
    stderr.write(
      [
        `mr dev: S3 ${e.s3} (bucket ${DEV_BUCKET}${flags.data ? `, data in ${flags.data}` : ', data removed on exit'})`,
        `mr dev: Lambda ${e.lambda} (function ${DEV_FUNCTION}, serving dist/infra/function-handler.js)`,
        `mr dev: Kinesis ${e.kinesis}, SQS ${e.sqs} (in memory)`,
        `mr dev: EventBridge Scheduler ${e.scheduler} (schedules fire on time into ${DEV_FUNCTION}; mr schedule --fire-now fires one at once)`,
        `mr dev: EventBridge ${e.eventbridge} (S3's new objects reach the rules of buckets that send events to EventBridge)`,
        'mr dev: ready. Paste the export lines into another shell; Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    const outcome = await Promise.race([signalled, stack.crashed]);
    if (outcome instanceof Error) throw new FanoutError(`${outcome.message}; stopping the stack`);
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    if (stack) {
      stderr.write('mr dev: stopping...\n');
      await stack.stop();
    }
  }
}

/** A port clash, reported as one line with what to do instead of the emulator's stack trace. */
function portInUse(err: unknown, portBase: number): UsageError | undefined {
  const text = err instanceof Error ? `${err.message} ${'code' in err ? String(err.code) : ''}` : '';
  if (!text.includes('EADDRINUSE')) return undefined;
  return new UsageError(
    `a port from ${portBase} to ${portBase + 5} on 127.0.0.1 is in use; pick others with --port-base N (0 = any free ports)`,
  );
}
