import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BundleIntegrityError } from '../errors.js';
import type { BundleRef } from '../protocol/lambda-protocol.js';
import { bundleKey } from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import type { JobBundle } from './bundle-job.js';

/**
 * Uploads a job bundle to the work store under its hash, once: the key names the content, so an
 * object already there with the same size is taken to be the same bundle (the runtime checks the
 * hash before importing anyway). Returns the pointer every invocation carries instead of the code.
 *
 * @example
 * const ref = await shipBundle(await bundleJob('jobs/wordcount.ts', dir), openStore('s3://bucket/work/'));
 * @throws {BundleIntegrityError} when the local bundle file no longer matches its hash.
 */
export async function shipBundle(bundle: JobBundle, work: ObjectStore): Promise<BundleRef> {
  const key = bundleKey(bundle.sha256);
  const existing = await work.head(key);
  if (existing?.size !== bundle.bytes) {
    const bytes = await readFile(bundle.path);
    // Fail here, with the local path in the message, rather than in every invocation.
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== bundle.sha256) {
      throw new BundleIntegrityError(`${bundle.path} has SHA-256 ${actual}, expected ${bundle.sha256}`);
    }
    await work.put(key, bytes);
  }
  return { store: work.url, key, sha256: bundle.sha256, bytes: bundle.bytes };
}
