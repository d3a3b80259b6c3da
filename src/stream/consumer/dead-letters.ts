import { createHash } from 'node:crypto';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DeadLetterError } from '../../errors.js';
import { deadLetterKey, deadLettersPrefix, type StreamScope } from '../../protocol/store-layout.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { StreamRecord } from '../types.js';

/** The JSON body of a dead-letter message. */
export interface DeadLetter {
  stream: string;
  job: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** The record's data, base64. */
  data: string;
  arrivedAt: string;
  error: string;
  attempts: number;
}

/** Where records that exhausted their retries go. */
export interface DeadLetterSink {
  readonly description: string;
  /** @throws {DeadLetterError} when the destination did not take the record. */
  send(letter: DeadLetter): Promise<void>;
}

/** Builds the message for a record that failed for good. */
export function deadLetterOf(
  job: string,
  stream: string,
  r: StreamRecord,
  error: string,
  attempts: number,
): DeadLetter {
  return {
    stream,
    job,
    shardId: r.shardId,
    sequenceNumber: r.sequenceNumber,
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data).toString('base64'),
    arrivedAt: r.arrivedAt.toISOString(),
    error,
    attempts,
  };
}

/**
 * An SQS queue, given by name (resolved once with GetQueueUrl) or URL. A consumer killed between
 * dead-lettering a record and checkpointing past it sends the record again when it restarts: a
 * standard queue then holds it twice (each letter names its shard and sequence number, so readers
 * can tell), while a FIFO queue (`….fifo`) drops the repeat, as the letter's deduplication id is
 * its stream, shard and sequence number (within SQS's five-minute deduplication window).
 */
export class SqsDeadLetters implements DeadLetterSink {
  #url: Promise<string> | undefined;
  constructor(
    private readonly client: SQSClient,
    private readonly queue: string,
  ) {}

  get description(): string {
    return `SQS queue ${this.queue}`;
  }

  async send(letter: DeadLetter): Promise<void> {
    try {
      this.#url ??= this.#resolve();
      const QueueUrl = await this.#url;
      const fifo = QueueUrl.endsWith('.fifo') && {
        MessageGroupId: letter.shardId,
        MessageDeduplicationId: createHash('sha256')
          .update(`${letter.stream}\n${letter.shardId}\n${letter.sequenceNumber}`)
          .digest('hex'),
      };
      await this.client.send(
        new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(letter), ...fifo }),
      );
    } catch (err) {
      this.#url = undefined;
      throw new DeadLetterError(
        `cannot dead-letter ${letter.shardId}/${letter.sequenceNumber} to ${this.description}: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
          retryable: true,
          context: { shardId: letter.shardId, sequenceNumber: letter.sequenceNumber },
        },
      );
    }
  }

  async #resolve(): Promise<string> {
    if (/^https?:\/\//.test(this.queue)) return this.queue;
    const out = await this.client.send(new GetQueueUrlCommand({ QueueName: this.queue }));
    if (!out.QueueUrl) throw new Error(`queue ${this.queue} has no URL`);
    return out.QueueUrl;
  }
}

/** With no `dlq` configured, failed records are kept in the store rather than dropped. */
export class StoreDeadLetters implements DeadLetterSink {
  constructor(
    private readonly store: ObjectStore,
    private readonly scope: StreamScope,
  ) {}

  get description(): string {
    return `${this.store.url.replace(/\/$/, '')}/${deadLettersPrefix(this.scope)}`;
  }

  async send(letter: DeadLetter): Promise<void> {
    try {
      await this.store.put(
        deadLetterKey(this.scope, letter.shardId, letter.sequenceNumber),
        JSON.stringify(letter),
      );
    } catch (err) {
      throw new DeadLetterError(
        `cannot dead-letter ${letter.shardId}/${letter.sequenceNumber} to the store`,
        {
          cause: err,
          retryable: true,
        },
      );
    }
  }
}
