/**
 * The S3 emulator's bucket notification configuration and object-created events, driven by the real
 * `@aws-sdk/client-s3`: the configuration round-trips as put, and every object created in a bucket
 * with EventBridge enabled (PutObject, a multipart upload, CopyObject) is reported once, with its
 * key as stored, its size, ETag and a growing sequencer; other buckets report nothing.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketNotificationConfigurationCommand,
  HeadObjectCommand,
  NoSuchBucket,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type S3Emulator,
  type S3ObjectCreated,
  S3RVER_CREDENTIALS,
  startS3Emulator,
} from '../../src/dev/s3-emulator.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:uploads';
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX = /^[0-9A-F]+$/;
const MiB = 1024 * 1024;

let s3: S3Emulator;
let client: S3Client;
const events: S3ObjectCreated[] = [];

beforeAll(async () => {
  s3 = await startS3Emulator({ buckets: ['events', 'quiet', 'queued', 'plain'] });
  client = s3.client();
  s3.onObjectCreated((e) => events.push(e));
  await client.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'events',
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    }),
  );
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

/** Waits until `n` events have arrived beyond the first `from`, and a little more for strays. */
async function eventsAfter(from: number, n: number): Promise<S3ObjectCreated[]> {
  const deadline = Date.now() + 5_000;
  while (events.length < from + n && Date.now() < deadline) await sleep(20);
  await sleep(100);
  return events.slice(from);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('S3 emulator notification configuration', () => {
  it('answers an empty configuration for a bucket that has none', async () => {
    const got = await client.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'plain' }));
    expect(got.EventBridgeConfiguration).toBeUndefined();
    expect(got.QueueConfigurations).toBeUndefined();
    expect(got.TopicConfigurations).toBeUndefined();
    expect(got.LambdaFunctionConfigurations).toBeUndefined();
  });

  it('keeps an EventBridge configuration as put', async () => {
    const got = await client.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'events' }));
    expect(got.EventBridgeConfiguration).toEqual({});
    expect(got.QueueConfigurations).toBeUndefined();
  });

  it('keeps a queue configuration as put, without enabling EventBridge', async () => {
    const queue = {
      Id: 'new-csv',
      QueueArn: QUEUE_ARN,
      Events: ['s3:ObjectCreated:*' as const],
      Filter: {
        Key: {
          FilterRules: [
            { Name: 'prefix' as const, Value: 'in/' },
            { Name: 'suffix' as const, Value: '.csv' },
          ],
        },
      },
    };
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'queued',
        NotificationConfiguration: { QueueConfigurations: [queue] },
      }),
    );
    const got = await client.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'queued' }));
    expect(got.QueueConfigurations).toEqual([queue]);
    expect(got.EventBridgeConfiguration).toBeUndefined();

    const from = events.length;
    await client.send(new PutObjectCommand({ Bucket: 'queued', Key: 'in/a.csv', Body: 'x' }));
    expect(await eventsAfter(from, 0)).toEqual([]);
  });

  it('keeps EventBridge and a queue together, and a later put replaces both', async () => {
    const queue = { Id: 'q', QueueArn: QUEUE_ARN, Events: ['s3:ObjectCreated:Put' as const] };
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'plain',
        NotificationConfiguration: { EventBridgeConfiguration: {}, QueueConfigurations: [queue] },
      }),
    );
    let got = await client.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'plain' }));
    expect(got.EventBridgeConfiguration).toEqual({});
    expect(got.QueueConfigurations).toEqual([queue]);

    await client.send(
      new PutBucketNotificationConfigurationCommand({ Bucket: 'plain', NotificationConfiguration: {} }),
    );
    got = await client.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'plain' }));
    expect(got.EventBridgeConfiguration).toBeUndefined();
    expect(got.QueueConfigurations).toBeUndefined();
  });

  it('round-trips with an S3 client of default settings (checksums on), as mr on-upload makes', async () => {
    const plain = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      credentials: S3RVER_CREDENTIALS,
      forcePathStyle: true,
    });
    try {
      await plain.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'quiet',
          NotificationConfiguration: { EventBridgeConfiguration: {} },
        }),
      );
      const got = await plain.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'quiet' }));
      expect(got.EventBridgeConfiguration).toEqual({});
    } finally {
      await plain.send(
        new PutBucketNotificationConfigurationCommand({ Bucket: 'quiet', NotificationConfiguration: {} }),
      );
      plain.destroy();
    }
  });

  it('answers NoSuchBucket for a bucket that does not exist', async () => {
    await expect(
      client.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'nowhere' })),
    ).rejects.toBeInstanceOf(NoSuchBucket);
    await expect(
      client.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'nowhere',
          NotificationConfiguration: { EventBridgeConfiguration: {} },
        }),
      ),
    ).rejects.toBeInstanceOf(NoSuchBucket);
  });
});

describe('S3 emulator object-created events', () => {
  it('reports a PutObject with its decoded key, size, ETag, sequencer and time', async () => {
    const from = events.length;
    const key = 'in/a file ü 日本+%20.csv';
    const put = await client.send(new PutObjectCommand({ Bucket: 'events', Key: key, Body: 'a,b\n1,2\n' }));
    const [e, ...more] = await eventsAfter(from, 1);
    expect(more).toEqual([]);
    expect(e).toEqual({
      bucket: 'events',
      key,
      size: 8,
      etag: put.ETag?.replaceAll('"', ''),
      sequencer: expect.stringMatching(HEX),
      time: expect.stringMatching(ISO_MS),
      reason: 'PutObject',
    });
    expect(Math.abs(Date.parse(e?.time ?? '') - Date.now())).toBeLessThan(10_000);
  });

  it('reports nothing for buckets without EventBridge, nor for deletes', async () => {
    const from = events.length;
    await client.send(new PutObjectCommand({ Bucket: 'quiet', Key: 'x', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: 'events', Key: 'gone', Body: 'x' }));
    await client.send(new DeleteObjectCommand({ Bucket: 'events', Key: 'gone' }));
    const got = await eventsAfter(from, 1);
    expect(got.map((e) => [e.bucket, e.key])).toEqual([['events', 'gone']]);
  });

  it('reports a CopyObject with the copy’s size and ETag', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'quiet', Key: 'source key', Body: 'hello' }));
    const from = events.length;
    await client.send(
      new CopyObjectCommand({
        Bucket: 'events',
        Key: 'copies/target ü.txt',
        CopySource: `quiet/${encodeURIComponent('source key')}`,
      }),
    );
    const [e, ...more] = await eventsAfter(from, 1);
    expect(more).toEqual([]);
    const head = await client.send(new HeadObjectCommand({ Bucket: 'events', Key: 'copies/target ü.txt' }));
    expect(e).toMatchObject({
      bucket: 'events',
      key: 'copies/target ü.txt',
      size: 5,
      etag: head.ETag?.replaceAll('"', ''),
      reason: 'CopyObject',
    });
  });

  it('reports a multipart upload once, when it completes', async () => {
    const from = events.length;
    const key = 'big/upload part ü.bin';
    const body = Buffer.alloc(6 * MiB + 17, 7);
    await new Upload({
      client,
      params: { Bucket: 'events', Key: key, Body: body },
      partSize: 5 * MiB,
    }).done();
    const [e, ...more] = await eventsAfter(from, 1);
    expect(more).toEqual([]);
    const head = await client.send(new HeadObjectCommand({ Bucket: 'events', Key: key }));
    expect(e).toMatchObject({
      bucket: 'events',
      key,
      size: body.length,
      etag: head.ETag?.replaceAll('"', ''),
      reason: 'CompleteMultipartUpload',
    });
  });

  it('reports CreateMultipartUpload / UploadPart / Complete done by hand as one event', async () => {
    const from = events.length;
    const key = 'big/by hand';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'events', Key: key }));
    const part = await client.send(
      new UploadPartCommand({ Bucket: 'events', Key: key, UploadId, PartNumber: 1, Body: 'only part' }),
    );
    expect(await eventsAfter(from, 0)).toEqual([]);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'events',
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const got = await eventsAfter(from, 1);
    expect(got).toMatchObject([{ key, size: 9, reason: 'CompleteMultipartUpload' }]);
  });

  it('gives every event a larger sequencer than the one before', async () => {
    const from = events.length;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.send(new PutObjectCommand({ Bucket: 'events', Key: `burst/${i}`, Body: String(i) })),
      ),
    );
    const got = await eventsAfter(from, 10);
    expect(got).toHaveLength(10);
    const sequencers = got.map((e) => BigInt(`0x${e.sequencer}`));
    for (let i = 1; i < sequencers.length; i++) {
      expect(sequencers[i]).toBeGreaterThan(sequencers[i - 1] as bigint);
    }
    expect(new Set(got.map((e) => e.key)).size).toBe(10);
  });
});
