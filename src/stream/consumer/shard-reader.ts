import {
  GetRecordsCommand,
  type GetRecordsOutput,
  GetShardIteratorCommand,
  type GetShardIteratorInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { streamRef } from '../../backends/stream-clients.js';
import { backoffMs, sleep } from '../../backoff.js';
import { makeRecord } from '../../task/stream-record.js';
import type { StartingPosition, StreamRecord } from '../types.js';
import { kinesisError } from './kinesis-errors.js';
import { STREAM_OPTION_DEFAULTS } from './stream-options.js';

/** Where a reader starts: a job's starting position, or just after a checkpoint. */
export type ReadStart = StartingPosition | { after: string };

/** Pacing of one shard's GetRecords calls. */
export interface ReaderPacing {
  /** Least time between the starts of two calls: Kinesis allows 5 calls/s per shard. @default 200 */
  minIntervalMs?: number;
  /** Wait after an empty read, so an idle shard costs one call a second as with Lambda. @default 1000 */
  idleMs?: number;
  /** First backoff after ProvisionedThroughputExceededException. @default 250 */
  throttleBaseMs?: number;
  /** @default 5000 */
  throttleCapMs?: number;
}

/** One GetRecords result. */
export interface ReadResult {
  records: StreamRecord[];
  /** NextShardIterator was null: the shard was closed and everything in it was read. */
  ended: boolean;
}

/**
 * Reads one shard with GetRecords within Kinesis's per-shard limits: paced calls, backoff on
 * throttling and on empty reads, and a fresh iterator (after the last record read) when one expires.
 * An error no retry can fix comes out as a StreamFailedError naming the stream and the shard.
 */
export class ShardReader {
  /**
   * How far behind the tip the last read was: MillisBehindLatest, or the age of the last record read
   * when that is larger (kinesalite always reports 0). Undefined before the first read.
   */
  millisBehind: number | undefined;
  throttles = 0;
  #iterator: string | undefined;
  #lastRead: string | undefined;
  #nextCallAt = 0;
  #throttleStreak = 0;
  readonly #pacing: Required<ReaderPacing>;

  constructor(
    private readonly client: KinesisClient,
    private readonly stream: string,
    readonly shardId: string,
    private readonly start: ReadStart,
    pacing: ReaderPacing = {},
  ) {
    this.#pacing = { ...STREAM_OPTION_DEFAULTS.pacing, ...pacing };
  }

  /**
   * One paced GetRecords call for at most `limit` records (Kinesis returns at most 10,000); returns
   * no records at once when the signal aborts.
   */
  async read(limit: number, signal?: AbortSignal): Promise<ReadResult> {
    for (;;) {
      await sleep(this.#nextCallAt - Date.now(), signal);
      if (signal?.aborted) return { records: [], ended: false };
      try {
        this.#iterator ??= await this.#getIterator();
      } catch (err) {
        throw kinesisError(err, this.stream, this.shardId);
      }
      let out: GetRecordsOutput;
      // Kinesis counts calls a second, so the next call is paced from this one's start, not its answer.
      const calledAt = Date.now();
      try {
        out = await this.client.send(
          new GetRecordsCommand({ ShardIterator: this.#iterator, Limit: Math.min(10_000, limit) }),
        );
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        if (name === 'ProvisionedThroughputExceededException') {
          this.throttles++;
          this.#throttleStreak++;
          const p = this.#pacing;
          this.#nextCallAt =
            Date.now() +
            p.throttleBaseMs +
            backoffMs(this.#throttleStreak, p.throttleBaseMs, p.throttleCapMs);
          continue;
        }
        // Iterators live 5 minutes; a paused reader (backpressure) outlives them. Resume where it was.
        if (name === 'ExpiredIteratorException') {
          this.#iterator = undefined;
          continue;
        }
        throw kinesisError(err, this.stream, this.shardId);
      }
      this.#throttleStreak = 0;

      const records = (out.Records ?? []).map((r) =>
        makeRecord({
          shardId: this.shardId,
          sequenceNumber: r.SequenceNumber ?? '',
          partitionKey: r.PartitionKey ?? '',
          data: r.Data ?? new Uint8Array(),
          arrivedAt: r.ApproximateArrivalTimestamp ?? new Date(),
        }),
      );
      const last = records.at(-1);
      if (last) this.#lastRead = last.sequenceNumber;
      const behind = out.MillisBehindLatest ?? 0;
      this.millisBehind = last ? Math.max(behind, Date.now() - last.arrivedAt.getTime()) : behind;
      this.#iterator = out.NextShardIterator ?? undefined;
      const ended = out.NextShardIterator == null;
      const caughtUp = records.length === 0 || out.MillisBehindLatest === 0;
      this.#nextCallAt =
        caughtUp && records.length === 0
          ? Date.now() + this.#pacing.idleMs
          : calledAt + this.#pacing.minIntervalMs;
      return { records, ended };
    }
  }

  async #getIterator(): Promise<string> {
    const input: GetShardIteratorInput = {
      ...streamRef(this.stream),
      ShardId: this.shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    };
    const after =
      this.#lastRead ??
      (typeof this.start === 'object' && 'after' in this.start ? this.start.after : undefined);
    if (after !== undefined) {
      input.ShardIteratorType = 'AFTER_SEQUENCE_NUMBER';
      input.StartingSequenceNumber = after;
    } else if (this.start === 'LATEST') {
      input.ShardIteratorType = 'LATEST';
    } else if (typeof this.start === 'object' && 'timestamp' in this.start) {
      input.ShardIteratorType = 'AT_TIMESTAMP';
      input.Timestamp = this.start.timestamp;
    }
    const out = await this.client.send(new GetShardIteratorCommand(input));
    if (!out.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${this.shardId}`);
    return out.ShardIterator;
  }
}
