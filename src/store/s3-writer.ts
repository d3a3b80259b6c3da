import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { FanoutError } from '../errors.js';
import type { ObjectWriter } from './object-store.js';
import { toS3StoreError } from './s3-retry.js';

/**
 * An ObjectWriter that streams into a lib-storage Upload: one PutObject if the body stays within
 * `partSize`, else a multipart upload that S3 publishes only when it completes on `close()`.
 * Holds up to about five parts in memory (four uploading, one filling).
 */
export function openS3Writer(
  client: S3Client,
  params: Omit<PutObjectCommandInput, 'Body'>,
  partSize: number,
  target: string,
): ObjectWriter {
  const body = new PassThrough();
  const done = new Upload({ client, partSize, params: { ...params, Body: body } }).done();
  // A failed upload fails the body too, so a write waiting for 'drain' wakes up; the error
  // itself is reported from `done`, which is why 'error' events need no handling here.
  done.catch((err: unknown) => body.destroy(err instanceof Error ? err : new Error(String(err))));
  body.on('error', () => {});
  const wrap = (err: unknown): never => {
    throw toS3StoreError(err, 'Upload', target);
  };
  const failure = async (): Promise<never> => {
    await done.catch(wrap);
    throw new FanoutError(`upload of ${target} finished before close()`);
  };
  let state: 'open' | 'closed' | 'aborted' = 'open';
  return {
    async write(chunk) {
      if (state !== 'open') throw new FanoutError(`write to ${target} after it was ${state}`);
      if (body.destroyed) await failure();
      // Copy: the caller may reuse its buffer once write resolves (RecordWriter.bytes() is a
      // view), and the upload keeps chunks until a whole part has arrived.
      if (!body.write(Buffer.from(chunk))) {
        try {
          await once(body, 'drain');
        } catch {
          await failure();
        }
      }
    },
    async close() {
      if (state !== 'open') return;
      state = 'closed';
      body.end();
      await done.catch(wrap);
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      // Failing the body makes the Upload stop before publishing anything and abort its
      // multipart upload. An unfinished multipart upload is never visible, so if that abort
      // request fails the object still never appears; only its parts linger until the bucket's
      // AbortIncompleteMultipartUpload lifecycle rule removes them. Hence no error here.
      body.destroy(new Error('writer aborted'));
      await done.catch(() => {});
    },
  };
}
