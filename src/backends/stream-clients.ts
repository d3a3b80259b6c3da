import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * A Kinesis client over HTTP/1.1. The SDK's default HTTP/2 handler is refused by kinesalite, and
 * GetRecords gains nothing from HTTP/2. The SDK itself honours `AWS_ENDPOINT_URL_KINESIS`.
 */
export function defaultKinesisClient(config: KinesisClientConfig = {}): KinesisClient {
  return new KinesisClient({ requestHandler: new NodeHttpHandler(), maxAttempts: 3, ...config });
}

/**
 * An SQS client for the dead-letter queue; the SDK honours `AWS_ENDPOINT_URL_SQS`. With that endpoint
 * set, requests go to it even when a queue URL names another host: emulators answer GetQueueUrl
 * with hosts such as `sqs.us-east-1.localhost` that do not resolve.
 */
export function defaultSqsClient(config: SQSClientConfig = {}): SQSClient {
  const pinned = process.env.AWS_ENDPOINT_URL_SQS ? { useQueueUrlAsEndpoint: false } : {};
  return new SQSClient({ requestHandler: new NodeHttpHandler(), maxAttempts: 3, ...pinned, ...config });
}

/** The stream name and, for an ARN, the ARN: the API takes either as `StreamName` or `StreamARN`. */
export function streamRef(stream: string): { StreamName: string } | { StreamARN: string } {
  return stream.startsWith('arn:') ? { StreamARN: stream } : { StreamName: stream };
}
