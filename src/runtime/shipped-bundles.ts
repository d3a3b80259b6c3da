import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BundleIntegrityError, JobDefinitionError } from '../errors.js';
import { isJob } from '../job/define-job.js';
import type { Job } from '../job/types.js';
import type { BundleRef } from '../protocol/lambda-protocol.js';
import type { ObjectStore } from '../store/object-store.js';
import { openStore } from '../store/open-store.js';
import { isStream } from '../stream/define-stream.js';
import type { Stream } from '../stream/types.js';

export interface ShippedBundlesOptions {
  /** Folder of verified bundles, kept across warm invocations. @default `<os.tmpdir()>/fanout-bundles` */
  dir?: string;
  /** Opens the store a bundle is shipped in. @default openStore */
  open?: (url: string) => ObjectStore;
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Loads shipped job bundles by hash: from memory when this environment already imported it, else
 * from the /tmp cache, else from the store. Bytes are hashed before they are written or imported,
 * so code that does not match the invocation's hash never runs.
 */
export class ShippedBundles {
  readonly #dir: string;
  readonly #open: (url: string) => ObjectStore;
  readonly #jobs = new Map<string, Promise<Job | Stream>>();

  constructor(options: ShippedBundlesOptions = {}) {
    this.#dir = options.dir ?? join(tmpdir(), 'fanout-bundles');
    this.#open = options.open ?? openStore;
  }

  /**
   * The job a bundle exports. Concurrent calls for one hash share one download.
   * @throws {BundleIntegrityError} when the stored bytes do not hash to `ref.sha256`.
   * @throws {JobDefinitionError} when the bundle's default export is not a job.
   */
  load(ref: BundleRef): Promise<Job | Stream> {
    let job = this.#jobs.get(ref.sha256);
    if (!job) {
      job = this.#load(ref);
      this.#jobs.set(ref.sha256, job);
      // A failed load is forgotten so a later invocation tries again (the store may have healed).
      job.catch(() => this.#jobs.delete(ref.sha256));
    }
    return job;
  }

  /**
   * The bundle as a local file, verified against its hash (fetched into the cache when it is not
   * there): what a driver running here hands to runJob.
   * @throws {BundleIntegrityError} when the stored bytes do not hash to `ref.sha256`.
   */
  async file(ref: BundleRef): Promise<{ path: string; sha256: string; bytes: number }> {
    const path = join(this.#dir, `${ref.sha256}.mjs`);
    if (!(await this.#cached(path, ref.sha256))) await this.#fetch(ref, path);
    return { path, sha256: ref.sha256, bytes: ref.bytes };
  }

  async #load(ref: BundleRef): Promise<Job | Stream> {
    const { path } = await this.file(ref);
    const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    if (!isJob(mod.default) && !isStream(mod.default)) {
      throw new JobDefinitionError(
        `bundle ${ref.key} does not export a job made by defineJob or defineStream`,
      );
    }
    return mod.default;
  }

  /** Whether the cache holds this bundle intact; a damaged copy is fetched again, not trusted. */
  async #cached(path: string, sha256: string): Promise<boolean> {
    try {
      return sha256Of(await readFile(path)) === sha256;
    } catch {
      return false;
    }
  }

  async #fetch(ref: BundleRef, path: string): Promise<void> {
    const bytes = await this.#open(ref.store).get(ref.key);
    const actual = sha256Of(bytes);
    if (actual !== ref.sha256) {
      throw new BundleIntegrityError(
        `job bundle ${ref.key} in ${ref.store} has SHA-256 ${actual} (${bytes.byteLength} bytes), ` +
          `expected ${ref.sha256} (${ref.bytes} bytes): refusing to import it`,
        { retryable: false },
      );
    }
    await mkdir(this.#dir, { recursive: true });
    // Write aside and rename, so another process sharing /tmp never imports half a file.
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
