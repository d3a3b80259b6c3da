import { CreateStreamCommand, PutRecordsCommand, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { defaultKinesisClient } from '../backends/stream-clients.js';
import { sleep } from '../backoff.js';
import { FanoutError, UsageError } from '../errors.js';
import { parseCount } from './parse-size.js';

/** Flags of `mr stream-gen`. */
export interface StreamGenFlags {
  stream?: string;
  rate?: string;
  keys?: string;
  duration?: string;
  create?: boolean;
  shards?: string;
  region?: string;
}

/** PutRecords takes at most 500 records per call. */
const MAX_PUT = 500;
const TICK_MS = 100;

/**
 * `mr stream-gen`: puts JSON records `{ key, seq, ts }` at a steady rate, `seq` increasing per key so
 * a consumer's ordering and completeness can be checked. A call carries at most one record per key
 * and failed records are put again before that key's next one, so each key arrives in order.
 */
export async function streamGenCommand(flags: StreamGenFlags): Promise<void> {
  if (!flags.stream) throw new UsageError('mr stream-gen needs --stream NAME');
  const stream = flags.stream;
  const rate = parseCount(flags.rate ?? '100', '--rate');
  const keys = parseCount(flags.keys ?? '10', '--keys');
  const duration = flags.duration === undefined ? undefined : parseCount(flags.duration, '--duration');
  const client = defaultKinesisClient(flags.region === undefined ? {} : { region: flags.region });
  if (flags.create) {
    const shards = parseCount(flags.shards ?? '1', '--shards');
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
    await waitUntilStreamExists(
      { client, maxWaitTime: 120, minDelay: 1, maxDelay: 2 },
      { StreamName: stream },
    );
    process.stderr.write(`mr stream-gen: created ${stream} with ${shards} shards\n`);
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const seqs = new Array<number>(keys).fill(0);
  let nextKey = 0;
  let sent = 0;
  const started = Date.now();
  try {
    while (!stop.signal.aborted && (duration === undefined || Date.now() - started < duration * 1000)) {
      const due = Math.floor(((Date.now() - started + TICK_MS) * rate) / 1000) - sent;
      let left = due;
      while (left > 0) {
        const n = Math.min(left, keys, MAX_PUT);
        const batch = Array.from({ length: n }, () => {
          const k = nextKey;
          nextKey = (nextKey + 1) % keys;
          const seq = seqs[k] ?? 0;
          seqs[k] = seq + 1;
          return { key: `k${k}`, seq };
        });
        await putAll(client, stream, batch);
        sent += n;
        left -= n;
      }
      await sleep(TICK_MS, stop.signal);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.stderr.write(
    `mr stream-gen: put ${sent} records to ${stream} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

async function putAll(
  client: ReturnType<typeof defaultKinesisClient>,
  stream: string,
  batch: { key: string; seq: number }[],
): Promise<void> {
  let pending = batch;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 8)
      throw new FanoutError(`stream-gen: ${pending.length} records still refused after ${attempt} tries`);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: pending.map((r) => ({
          PartitionKey: r.key,
          Data: new TextEncoder().encode(JSON.stringify({ ...r, ts: Date.now() })),
        })),
      }),
    );
    // Only throttled entries come back with an ErrorCode; they are put again after a pause.
    const failed = pending.filter((_, i) => out.Records?.[i]?.ErrorCode);
    if (failed.length > 0) await sleep(100 * 2 ** attempt);
    pending = failed;
  }
}
