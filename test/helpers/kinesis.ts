import {
  CreateStreamCommand,
  DeleteStreamCommand,
  KinesisClient,
  PutRecordsCommand,
  waitUntilStreamExists,
  waitUntilStreamNotExists,
} from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll } from 'vitest';
import { type KinesisEmulator, startKinesisEmulator } from '../../src/dev/kinesis-emulator.js';
import { type SqsEmulator, startSqsEmulator } from '../../src/dev/sqs-emulator.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A Kinesis client for the emulator: HTTP/1.1, fixed credentials, no real AWS. */
export function kinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials,
    requestHandler: new NodeHttpHandler(),
  });
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: 'us-east-1', credentials, requestHandler: new NodeHttpHandler() });
}

export async function createStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitUntilStreamExists(
    { client, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.2 },
    { StreamName: name },
  );
}

/** Deletes a stream and waits until it is gone, so one of the same name can be created. */
export async function deleteStream(client: KinesisClient, name: string): Promise<void> {
  await client.send(new DeleteStreamCommand({ StreamName: name }));
  await waitUntilStreamNotExists(
    { client, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.2 },
    { StreamName: name },
  );
}

export async function createQueue(client: SQSClient, name: string): Promise<string> {
  const out = await client.send(new CreateQueueCommand({ QueueName: name }));
  return out.QueueUrl ?? '';
}

/** One generated record: per-key `seq` increasing, so order and completeness can be checked. */
export interface GenRecord {
  key: string;
  seq: number;
}

/** Puts `perKey` records for each of `keys` keys, interleaved, in PutRecords calls of ≤500. */
export async function putKeyed(
  client: KinesisClient,
  stream: string,
  keys: number,
  perKey: number,
  extra: (r: GenRecord) => Record<string, unknown> = () => ({}),
): Promise<GenRecord[]> {
  const all: GenRecord[] = [];
  for (let seq = 0; seq < perKey; seq++) for (let k = 0; k < keys; k++) all.push({ key: `k${k}`, seq });
  for (let i = 0; i < all.length; i += 500) {
    const chunk = all.slice(i, i + 500);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: chunk.map((r) => ({
          PartitionKey: r.key,
          Data: new TextEncoder().encode(JSON.stringify({ ...r, ...extra(r) })),
        })),
      }),
    );
    if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} puts failed`);
  }
  return all;
}

/** Both emulators, started once per test file. */
export async function startEmulators(): Promise<{
  kinesis: KinesisEmulator;
  sqs: SqsEmulator;
  stop(): Promise<void>;
}> {
  const kinesis = await startKinesisEmulator();
  const sqs = await startSqsEmulator();
  return { kinesis, sqs, stop: async () => void (await Promise.all([kinesis.stop(), sqs.stop()])) };
}

/**
 * The emulators for one test file: started in `beforeAll`, stopped in `afterAll` (with `dir`, a
 * temporary folder, removed too). The returned object reads through to them once started.
 */
export function useEmulators(dir?: { cleanup(): void }): Awaited<ReturnType<typeof startEmulators>> {
  let started: Awaited<ReturnType<typeof startEmulators>> | undefined;
  beforeAll(async () => {
    started = await startEmulators();
  });
  afterAll(async () => {
    await started?.stop();
    dir?.cleanup();
  });
  const get = () => {
    if (!started) throw new Error('the emulators start in beforeAll: use them inside tests');
    return started;
  };
  return {
    get kinesis() {
      return get().kinesis;
    },
    get sqs() {
      return get().sqs;
    },
    stop: () => get().stop(),
  };
}

/** Polls until `check` holds or the time runs out. */
export async function waitFor(check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
