import {
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { checkpointKey, deadLetterKey, leasesPrefix } from '../../../../src/protocol/store-layout.js';
import { describeStream, scopeOf } from '../../../../src/stream/consumer/stream-identity.js';

const arn = 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks';
const createdAt = new Date('2026-11-27T10:00:00.123Z');

/** A Kinesis client that answers only the calls given. */
function stub(answers: Partial<Record<string, () => unknown>>): KinesisClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    send: async (command: { constructor: { name: string } }) => {
      const name = command.constructor.name;
      calls.push(name);
      const answer = answers[name];
      if (!answer) throw Object.assign(new Error(`no ${name}`), { name: 'UnknownOperationException' });
      return answer();
    },
  } as unknown as KinesisClient & { calls: string[] };
}

describe('describeStream', () => {
  it('reads the name, ARN and creation time from DescribeStreamSummary', async () => {
    const client = stub({
      [DescribeStreamSummaryCommand.name]: () => ({
        StreamDescriptionSummary: {
          StreamName: 'clicks',
          StreamARN: arn,
          StreamCreationTimestamp: createdAt,
        },
      }),
    });
    expect(await describeStream(client, 'clicks')).toEqual({ name: 'clicks', arn, createdAt });
  });

  it('falls back to DescribeStream where DescribeStreamSummary is unknown', async () => {
    const client = stub({
      [DescribeStreamCommand.name]: () => ({
        StreamDescription: { StreamName: 'clicks', StreamARN: arn, StreamCreationTimestamp: createdAt },
      }),
    });
    expect(await describeStream(client, 'clicks')).toEqual({ name: 'clicks', arn, createdAt });
    expect(client.calls).toEqual([DescribeStreamSummaryCommand.name, DescribeStreamCommand.name]);
  });
});

describe('stream keys', () => {
  it('keys a job on one stream by its name and a short id of its ARN and creation time', () => {
    const scope = scopeOf('etl', { name: 'clicks', arn, createdAt });
    expect(checkpointKey(scope, 'shardId-000000000001')).toMatch(
      /^streams\/etl\/clicks-[0-9a-f]{8}\/checkpoints\/shardId-000000000001\.json$/,
    );
    expect(leasesPrefix(scope)).toBe(`streams/etl/clicks-${scope.streamId}/leases/`);
    expect(deadLetterKey(scope, 's', '42')).toBe(
      `streams/etl/clicks-${scope.streamId}/dead-letters/s/42.json`,
    );
    expect(scopeOf('etl', { name: 'clicks', arn, createdAt: new Date(createdAt) })).toEqual(scope);
  });

  it('gives a stream created again under its name, or another stream, other keys', () => {
    const first = scopeOf('etl', { name: 'clicks', arn, createdAt });
    const again = scopeOf('etl', { name: 'clicks', arn, createdAt: new Date(createdAt.getTime() + 1) });
    const other = scopeOf('etl', { name: 'clicks', arn: arn.replace('us-east-1', 'eu-west-1'), createdAt });
    expect(new Set([first.streamId, again.streamId, other.streamId]).size).toBe(3);
  });
});
