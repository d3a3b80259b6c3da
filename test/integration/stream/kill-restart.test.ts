/**
 * `mr stream` SIGKILLed and restarted ten times during a 50,000-record run with poison records. The
 * oracle is the list of records put: every good record processed at least once, in order per key,
 * and the dead-letter queue (FIFO, so a record dead-lettered again after a kill is dropped as a
 * repeat) holding exactly the poison records.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../src/stream/consumer/dead-letters.js';
import {
  createStream,
  kinesisClient,
  putKeyed,
  sqsClient,
  useEmulators,
  waitFor,
} from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('kill-restart');
const emu = useEmulators(d);

const KEYS = 10;
const PER_KEY = Number(process.env.KILL_PER_KEY ?? 5000);
const isPoison = (seq: number, key: string) => (seq * 31 + Number(key.slice(1))) % 1009 === 5;

function mr(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/mr-src.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  return { child, done: new Promise((ok) => child.on('exit', ok)), stderr: () => stderr };
}

/** Lines `key seq shard` written so far. */
function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('mr stream killed and restarted', () => {
  it('ten SIGKILLs in a 50,000-record run: every good record at least once, in order per key, the DLQ holding exactly the poison records', {
    timeout: 300_000,
  }, async () => {
    const k = kinesisClient(emu.kinesis.endpoint);
    const sqs = sqsClient(emu.sqs.endpoint);
    await createStream(k, 'poison', 2);
    const queue = await sqs.send(
      new CreateQueueCommand({ QueueName: 'poison-dlq.fifo', Attributes: { FifoQueue: 'true' } }),
    );
    const put = await putKeyed(k, 'poison', KEYS, PER_KEY, (r) => ({ poison: isPoison(r.seq, r.key) }));
    expect(put).toHaveLength(KEYS * PER_KEY);
    const poison = new Set(put.filter((r) => isPoison(r.seq, r.key)).map((r) => `${r.key}/${r.seq}`));
    expect(poison.size).toBeGreaterThan((KEYS * PER_KEY) / 2000);

    const out = join(d.path, 'out.txt');
    const env = {
      AWS_ENDPOINT_URL_KINESIS: emu.kinesis.endpoint,
      AWS_ENDPOINT_URL_SQS: emu.sqs.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      STREAM_OUT: out,
      STREAM_DLQ: 'poison-dlq.fifo',
    };
    const args = ['stream', 'test/fixtures/jobs/stream-poison.ts', '--work', join(d.path, 'work')];
    for (let round = 0; round < Number(process.env.KILL_ROUNDS ?? 10); round++) {
      const before = lines(out).length;
      const run = mr(args, env);
      // Killed once it has written something this round: mid-stream, with batches in flight.
      await waitFor(() => lines(out).length > before + 500 || run.child.exitCode !== null, 60_000).finally(
        () => run.child.kill('SIGKILL'),
      );
      await run.done;
    }
    const good = put.length - poison.size;
    const distinct = () => new Set(lines(out).map((l) => l.split(' ').slice(0, 2).join('/'))).size;
    expect(distinct()).toBeLessThan(good);
    const last = mr(args, env);
    await waitFor(() => distinct() >= good, 120_000).catch((err: Error) => {
      // Not left running after a failed test.
      last.child.kill('SIGKILL');
      throw new Error(`${err.message}: ${distinct()} of ${good}; stderr:\n${last.stderr().slice(-3000)}`);
    });
    // Let the last dead letters land, then stop cleanly.
    await new Promise((r) => setTimeout(r, 1000));
    last.child.kill('SIGTERM');
    expect(await last.done).toBe(0);

    // Every good record at least once, no poison record ever processed.
    const seen = new Set(lines(out).map((l) => l.split(' ').slice(0, 2).join('/')));
    for (const r of put) expect(seen.has(`${r.key}/${r.seq}`)).toBe(!poison.has(`${r.key}/${r.seq}`));
    // Per key, a record is processed only once every good record before it has been.
    const next = new Map<string, number>();
    const skipPoison = (key: string, seq: number) => {
      let s = seq;
      while (poison.has(`${key}/${s}`)) s++;
      return s;
    };
    for (const line of lines(out)) {
      const [key = '', seqText = ''] = line.split(' ');
      const seq = Number(seqText);
      const expected = skipPoison(key, next.get(key) ?? 0);
      expect(seq, `${key}/${seq} processed before ${key}/${expected}`).toBeLessThanOrEqual(expected);
      if (seq === expected) next.set(key, skipPoison(key, seq + 1));
    }

    // The DLQ: exactly the poison records, each once.
    const letters: DeadLetter[] = [];
    for (let empty = 0; empty < 2; ) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      const msgs = got.Messages ?? [];
      if (msgs.length === 0) {
        empty++;
        continue;
      }
      letters.push(...msgs.map((m) => JSON.parse(m.Body ?? '{}') as DeadLetter));
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.QueueUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    const dead = letters.map((l) => {
      const body = JSON.parse(Buffer.from(l.data, 'base64').toString()) as { key: string; seq: number };
      return `${body.key}/${body.seq}`;
    });
    expect(dead.sort()).toEqual([...poison].sort());
  });
});
