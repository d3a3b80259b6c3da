import { checkEmulatorPackages } from './dev-packages.js';
import { freeLoopbackPort } from './emulator-child.js';
import { s3ObjectCreatedEvent, startEventBridgeEmulator } from './eventbridge-emulator.js';
import { startKinesisEmulator } from './kinesis-emulator.js';
import { startLambdaEmulator } from './lambda-emulator.js';
import { S3RVER_CREDENTIALS, startS3Emulator } from './s3-emulator.js';
import { lambdaInvoker, startSchedulerEmulator } from './scheduler-emulator.js';
import { startSqsEmulator } from './sqs-emulator.js';

/** The bucket `mr dev` creates. */
export const DEV_BUCKET = 'fanout-dev';
/** The runtime function `mr dev` serves, named as `mr run --backend aws` expects by default. */
export const DEV_FUNCTION = 'fanout-runtime';
/** The region every emulator reports. */
export const DEV_REGION = 'us-east-1';

/** How to start the local AWS stack. */
export interface DevStackOptions {
  /**
   * S3 listens on this port, Lambda on the next, then Kinesis, SQS, EventBridge Scheduler and
   * EventBridge; 0 picks free ports. @default 0
   */
  portBase?: number;
  /** Folder that keeps the S3 objects across restarts. @default a temporary folder, removed on stop */
  dataDir?: string;
  /** Lambda function timeout in seconds. @default 900 (Lambda's maximum) */
  functionTimeoutSeconds?: number;
}

/** The emulators' endpoints, by the SDK's `AWS_ENDPOINT_URL_<SERVICE>` names. */
export interface DevEndpoints {
  s3: string;
  lambda: string;
  kinesis: string;
  sqs: string;
  scheduler: string;
  eventbridge: string;
}

/** A running local AWS stack. */
export interface DevStack {
  endpoints: DevEndpoints;
  /** The variables a shell needs to use the stack, in print order: endpoints, credentials, region. */
  env: Readonly<Record<string, string>>;
  /** Settles with an error when an emulator's child process dies before `stop()`. */
  crashed: Promise<Error>;
  /** Stops every emulator, children included; safe to call twice. */
  stop(): Promise<void>;
}

/** The shell variables for a stack at `endpoints`. */
export function devEnvironment(endpoints: DevEndpoints): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SCHEDULER: endpoints.scheduler,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventbridge,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: DEV_REGION,
  };
}

/**
 * Starts S3 (s3rver, with bucket `fanout-dev`), Lambda (serverless-offline serving `fanout-runtime`
 * from the built runtime handler), Kinesis (kinesalite), SQS (fauxqs), EventBridge Scheduler (its
 * schedules invoke the function when due: see scheduler-emulator.ts) and EventBridge (S3's events of
 * buckets that send them to EventBridge go to its rules), all on 127.0.0.1. The
 * runtime function's S3 client is pointed at the S3 emulator with its credentials, so a job run
 * through the emulated Lambda reads and writes the emulated bucket. If any emulator fails to start,
 * the others are stopped before the error is thrown.
 * @throws {UsageError} naming the install command when an emulator package is missing.
 * @example const stack = await startDevStack({ portBase: 4600 }); await stack.stop();
 */
export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  await checkEmulatorPackages();
  const base = options.portBase ?? 0;
  const at = (offset: number) => (base === 0 ? 0 : base + offset);
  const s3 = startS3Emulator({
    buckets: [DEV_BUCKET],
    port: at(0),
    ...(options.dataDir !== undefined && { directory: options.dataDir }),
  });
  // The function's S3 client needs the S3 endpoint, so Lambda starts once S3 is up; its port is
  // known first, as a submitted driver in the function invokes the function itself.
  const lambdaPort = base === 0 ? await freeLoopbackPort() : at(1);
  const lambda = s3.then((s) =>
    startLambdaEmulator({
      functions: [{ name: DEV_FUNCTION, timeoutSeconds: options.functionTimeoutSeconds ?? 900 }],
      port: lambdaPort,
      environment: {
        AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${lambdaPort}`,
        AWS_ENDPOINT_URL_S3: s.endpoint,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_REGION: DEV_REGION,
      },
    }),
  );
  const kinesis = startKinesisEmulator({ port: at(2) });
  const sqs = startSqsEmulator({ port: at(3) });
  const scheduler = startSchedulerEmulator({
    port: at(4),
    region: DEV_REGION,
    invoke: lambdaInvoker(`http://127.0.0.1:${lambdaPort}`),
  });
  const eventbridge = startEventBridgeEmulator({
    port: at(5),
    region: DEV_REGION,
    invoke: lambdaInvoker(`http://127.0.0.1:${lambdaPort}`),
  });
  const started = await Promise.allSettled([s3, lambda, kinesis, sqs, scheduler, eventbridge]);
  const stoppers = started.flatMap((r) => (r.status === 'fulfilled' ? [() => r.value.stop()] : []));
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping = true;
    stopped ??= Promise.all(stoppers.map((fn) => fn())).then(() => undefined);
    return stopped;
  };
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  // Every promise has settled and none failed, so these awaits only unwrap the values.
  const [s, l, k, q, e] = [await s3, await lambda, await kinesis, await sqs, await scheduler];
  const b = await eventbridge;
  // S3 sends a bucket's new objects to EventBridge once its notifications say so, as on AWS.
  s.onObjectCreated((created) => {
    void b.deliver(s3ObjectCreatedEvent(created, DEV_REGION));
  });
  const endpoints = {
    s3: s.endpoint,
    lambda: l.endpoint,
    kinesis: k.endpoint,
    sqs: q.endpoint,
    scheduler: e.endpoint,
    eventbridge: b.endpoint,
  };
  const crashed = Promise.race([
    s.exited.then(() => 'S3 emulator (s3rver)'),
    l.exited.then(() => 'Lambda emulator (serverless-offline)'),
  ]).then((name) => new Error(`${name} exited unexpectedly`));
  return {
    endpoints,
    env: devEnvironment(endpoints),
    // Exits caused by stop() are not crashes: such a promise never settles.
    crashed: crashed.then((err) => (stopping ? new Promise<Error>(() => {}) : err)),
    stop,
  };
}
