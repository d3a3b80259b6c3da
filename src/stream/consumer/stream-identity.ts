import {
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { streamRef } from '../../backends/stream-clients.js';
import { type StreamScope, streamKeyId } from '../../protocol/store-layout.js';

/** What tells one stream from another, and from an earlier stream of its name. */
export interface StreamIdentity {
  name: string;
  arn: string;
  createdAt: Date;
}

/**
 * The stream's name, ARN and creation time, from DescribeStreamSummary; an endpoint without that
 * call (it came in 2018) is asked DescribeStream for one shard instead, which carries the same three.
 * @throws the SDK's error, such as ResourceNotFoundException for a stream that does not exist.
 */
export async function describeStream(client: KinesisClient, stream: string): Promise<StreamIdentity> {
  let d: { StreamName?: string; StreamARN?: string; StreamCreationTimestamp?: Date } | undefined;
  try {
    d = (await client.send(new DescribeStreamSummaryCommand(streamRef(stream)))).StreamDescriptionSummary;
  } catch (err) {
    if (!(err instanceof Error) || !UNKNOWN_OPERATION.has(err.name)) throw err;
    d = (await client.send(new DescribeStreamCommand({ ...streamRef(stream), Limit: 1 }))).StreamDescription;
  }
  if (!d?.StreamARN || !d.StreamCreationTimestamp) {
    throw new Error(`Kinesis described stream ${stream} without its ARN or creation time`);
  }
  return { name: d.StreamName ?? stream, arn: d.StreamARN, createdAt: d.StreamCreationTimestamp };
}

/** The store scope of a job's keys on this stream (see StreamScope). */
export function scopeOf(job: string, id: StreamIdentity): StreamScope {
  return { job, stream: id.name, streamId: streamKeyId(id.arn, id.createdAt) };
}

/** How endpoints answer an action they do not implement. */
const UNKNOWN_OPERATION = new Set(['UnknownOperationException', 'InvalidAction', 'NotImplemented']);
