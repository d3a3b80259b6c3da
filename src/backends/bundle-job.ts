import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FanoutError, UsageError } from '../errors.js';
import { bundleKey, bundleRecordKey } from '../protocol/store-layout.js';

/** A job file bundled into one ES module, named by the SHA-256 of its bytes. */
export interface JobBundle {
  path: string;
  sha256: string;
  bytes: number;
}

/** Name of the generated entry module; it has no file, so it is not an input to watch. */
const ENTRY_NAME = 'fanout-job-entry.js';

/** Bump when the esbuild options below change, so bundles made the old way are not reused. */
const BUNDLE_FORMAT = 1;

/** What a bundle was made from: every input file with its size and modification time. */
interface BundleRecord {
  format: number;
  bundle: JobBundle;
  inputs: Record<string, { size: number; mtimeMs: number }>;
}

/**
 * Bundles a job file and everything it imports into one ES module under `dir/bundles/<sha256>.mjs`,
 * whose default export is the job. Pool workers import it; for Lambda it is shipped to the work store.
 * When no input file changed since the last bundle of this job file, that bundle is reused without
 * starting esbuild (about a third of a small run's start-up).
 * @throws {UsageError} when the file cannot be found or does not compile.
 */
export async function bundleJob(jobFile: string, dir: string): Promise<JobBundle> {
  try {
    await access(jobFile);
  } catch {
    throw new UsageError(`job file not found: ${jobFile}`);
  }
  const recordPath = join(
    dir,
    ...bundleRecordKey(createHash('sha256').update(resolve(jobFile)).digest('hex').slice(0, 16)).split('/'),
  );
  const reused = await reusable(recordPath);
  if (reused) return reused;

  const { code, inputs } = await build(jobFile);
  const sha256 = createHash('sha256').update(code).digest('hex');
  const path = join(dir, ...bundleKey(sha256).split('/'));
  if (!(await exists(path))) await writeAtomically(path, code);
  const bundle = { path, sha256, bytes: code.byteLength };
  const record: BundleRecord = { format: BUNDLE_FORMAT, bundle, inputs: {} };
  for (const input of inputs) {
    const s = await stat(input);
    record.inputs[input] = { size: s.size, mtimeMs: s.mtimeMs };
  }
  await writeAtomically(recordPath, JSON.stringify(record));
  return bundle;
}

/**
 * Imports a bundle and returns its default export, unchecked. Code that throws while loading is
 * the job file's fault, said in one line naming the file.
 * @throws {UsageError} when the bundle cannot be imported.
 */
export async function importBundle(bundle: JobBundle, file: string): Promise<unknown> {
  try {
    return ((await import(pathToFileURL(bundle.path).href)) as { default?: unknown }).default;
  } catch (err) {
    if (err instanceof FanoutError) throw err;
    throw new UsageError(`cannot load ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** The bundle a record names, if it is still there and none of its inputs changed. */
async function reusable(recordPath: string): Promise<JobBundle | undefined> {
  let record: BundleRecord;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as BundleRecord;
  } catch {
    return undefined;
  }
  if (record.format !== BUNDLE_FORMAT || !(await exists(record.bundle.path))) return undefined;
  for (const [file, was] of Object.entries(record.inputs)) {
    const now = await stat(file).catch(() => undefined);
    if (!now || now.size !== was.size || now.mtimeMs !== was.mtimeMs) return undefined;
  }
  return record.bundle;
}

async function build(jobFile: string): Promise<{ code: Uint8Array; inputs: string[] }> {
  // esbuild is loaded only when a bundle has to be made.
  const esbuild = await import('esbuild');
  const entry = `export { default } from ${JSON.stringify(jobFile)};`;
  try {
    const result = await esbuild.build({
      stdin: {
        contents: entry,
        resolveDir: dirname(jobFile),
        sourcefile: ENTRY_NAME,
        loader: 'js',
      },
      bundle: true,
      write: false,
      metafile: true,
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
    const inputs = Object.keys(result.metafile.inputs)
      .filter((f) => basename(f) !== ENTRY_NAME && !f.startsWith('<'))
      .map((f) => resolve(f));
    return { code: (result.outputFiles[0] as { contents: Uint8Array }).contents, inputs };
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] })
      .errors?.[0];
    if (first?.text.startsWith('No matching export') && first.text.includes('"default"')) {
      throw new UsageError(`${jobFile} has no default export; write \`export default defineJob({ ... })\``);
    }
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new UsageError(`cannot bundle ${jobFile}: ${first?.text ?? String(err)}${where}`);
  }
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
