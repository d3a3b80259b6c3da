import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleJob, importBundle, type JobBundle } from '../../backends/bundle-job.js';
import { UsageError } from '../../errors.js';
import { isStream } from '../define-stream.js';
import type { Stream } from '../types.js';

/**
 * Loads a stream job file the way batch job files are loaded: bundled once with esbuild (so
 * TypeScript and `import 'fanout'` work anywhere), then imported. Worker threads import the same bundle.
 * @throws {UsageError} when the file is missing, does not compile, or exports no stream job.
 */
export async function loadStreamJob(
  jobFile: string,
  bundleDir = join(tmpdir(), 'fanout'),
): Promise<{ job: Stream; bundle: JobBundle }> {
  const file = resolve(jobFile);
  const bundle = await bundleJob(file, bundleDir);
  const job = await importBundle(bundle, jobFile);
  if (!isStream(job)) {
    throw new UsageError(
      `${jobFile} does not export a stream job: its default export must be made by defineStream`,
    );
  }
  return { job, bundle };
}
