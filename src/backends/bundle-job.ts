import { createHash } from 'node:crypto';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { UsageError } from '../errors.js';

/** A job file bundled into one ES module, named by the SHA-256 of its bytes. */
export interface JobBundle {
  path: string;
  sha256: string;
  bytes: number;
}

/**
 * Bundles a job file and everything it imports into one ES module under `dir/bundles/<sha256>.mjs`,
 * whose default export is the job. Pool workers import it; for Lambda it is shipped to the work store.
 * @throws {UsageError} when the file cannot be found or does not compile.
 */
export async function bundleJob(jobFile: string, dir: string): Promise<JobBundle> {
  try {
    await access(jobFile);
  } catch {
    throw new UsageError(`job file not found: ${jobFile}`);
  }
  const entry = `export { default } from ${JSON.stringify(jobFile)};`;
  let code: Uint8Array;
  try {
    const result = await build({
      stdin: {
        contents: entry,
        resolveDir: dirname(jobFile),
        sourcefile: 'fanout-job-entry.js',
        loader: 'js',
      },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      external: ['esbuild'],
      logLevel: 'silent',
      legalComments: 'none',
      // CommonJS dependencies inside an ES module still need `require` for Node built-ins.
      banner: {
        js: "import { createRequire as __fanoutCreateRequire } from 'node:module'; const require = __fanoutCreateRequire(import.meta.url);",
      },
    });
    code = (result.outputFiles[0] as { contents: Uint8Array }).contents;
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] })
      .errors?.[0];
    if (first?.text.startsWith('No matching export') && first.text.includes('"default"')) {
      throw new UsageError(`${jobFile} has no default export; write \`export default defineJob({ ... })\``);
    }
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new UsageError(`cannot bundle ${jobFile}: ${first?.text ?? String(err)}${where}`);
  }
  const sha256 = createHash('sha256').update(code).digest('hex');
  const path = join(dir, 'bundles', `${sha256}.mjs`);
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, code);
    await rename(tmp, path);
  }
  return { path, sha256, bytes: code.byteLength };
}
