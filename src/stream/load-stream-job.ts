import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleJob, type JobBundle } from '../backends/bundle-job.js';
import { FanoutError, UsageError } from '../errors.js';
import { isStream } from './define-stream.js';
import type { Stream } from './types.js';

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
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(bundle.path).href)) as { default?: unknown };
  } catch (err) {
    if (err instanceof FanoutError) throw err;
    throw new UsageError(`cannot load ${jobFile}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  if (!isStream(mod.default)) {
    throw new UsageError(
      `${jobFile} does not export a stream job: its default export must be made by defineStream`,
    );
  }
  return { job: mod.default, bundle };
}
