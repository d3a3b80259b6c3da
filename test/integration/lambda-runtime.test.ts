import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleJob } from '../../src/backends/bundle-job.js';
import { createLambdaClient, LambdaInvoker } from '../../src/backends/lambda-invoker.js';
import { shipBundle } from '../../src/backends/ship-bundle.js';
import { BundleIntegrityError, ThrottledError, UserCodeError, WorkerCrashedError } from '../../src/errors.js';
import type { BundleRef } from '../../src/protocol/lambda-protocol.js';
import type { MapResult, MapTask, ReduceTask } from '../../src/protocol/task-types.js';
import { createHandler } from '../../src/runtime/lambda-handler.js';
import { LocalDirStore } from '../../src/store/local-dir-store.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import { encodeInputList } from '../../src/task/reduce-inputs.js';
import { type LambdaEmulator, startLambdaEmulator } from '../helpers/lambda-emulator.js';
import { tempDir } from '../helpers/temp.js';

const TEXT = 'the cat sat on the mat\nthe dog ate the cat food\ncafé 日本語 the 😀\n';
const EXPECTED = countWords(TEXT);
const fixture = (name: string) => resolve('test/fixtures/jobs', `${name}.ts`);

/** Independent oracle: the word count of `text`, computed without the engine. */
function countWords(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const w of text.split(/\s+/)) if (w) counts[w] = (counts[w] ?? 0) + 1;
  return counts;
}

/** A temp folder with one input file, work and output stores, and tasks built as run-job builds them. */
function workspace(label: string, text = TEXT) {
  const dir = tempDir(label);
  dir.file('data/a.txt', text);
  const split = { store: new LocalDirStore(join(dir.path, 'data')).url, key: 'a.txt' };
  const work = new LocalDirStore(join(dir.path, 'work'));
  const out = new LocalDirStore(join(dir.path, 'out'));
  const size = Buffer.byteLength(text);
  const base = { jobId: 'wc-test', stage: 0, memoryBudget: 64 << 20 };
  const mapTask = (taskId = 's0-m00000', attempt = 1): MapTask => ({
    ...base,
    kind: 'map',
    taskId,
    attempt,
    input: { format: 'text' },
    splits: [{ ...split, start: 0, end: size, size }],
    partitions: 2,
    shuffleStore: work.url,
    shuffleKey: `jobs/wc-test/data/s0/shuffle/00/${taskId}-a${attempt}.shf`,
  });
  /** Reduce tasks as the driver builds them: each reducer's slice list stored, the task pointing to it. */
  const reduceTasks = (map: MapResult): Promise<ReduceTask[]> =>
    Promise.all(
      map.slices.map(async (slice, p) => {
        const inputs = slice.length > 0 ? [{ store: work.url, key: map.shuffleKey, slice }] : [];
        const key = `jobs/wc-test/data/s0/reduce-inputs/s0-r0000${p}.json`;
        const list = encodeInputList(inputs);
        await work.put(key, list.bytes);
        return {
          ...base,
          kind: 'reduce' as const,
          taskId: `s0-r0000${p}`,
          attempt: 1,
          partition: p,
          inputs: { store: work.url, key, count: list.count, crc: list.crc },
          outputStore: out.url,
          outputKey: `part-0000${p}.jsonl`,
        };
      }),
    );
  const readCounts = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const name of await readdir(out.root)) {
      for (const line of (await readFile(join(out.root, name), 'utf8')).split('\n').filter(Boolean)) {
        const { key, value } = JSON.parse(line) as { key: string; value: number };
        expect(counts[key], `key ${key} twice`).toBeUndefined();
        counts[key] = value;
      }
    }
    return counts;
  };
  return { dir, work, mapTask, reduceTasks, readCounts };
}

/** Ships a job file into a work store, as the driver does before invoking anything. */
async function ship(job: string, work: ObjectStore, scratch: string): Promise<BundleRef> {
  return shipBundle(await bundleJob(resolve(job), scratch), work);
}

/** A store that counts whole-object reads, to see whether the runtime downloads the bundle. */
function countingGets(store: ObjectStore): { store: ObjectStore; gets: () => number } {
  let gets = 0;
  const counted = Object.create(store) as ObjectStore;
  counted.get = (key, range) => {
    gets++;
    return store.get(key, range);
  };
  return { store: counted, gets: () => gets };
}

describe('runtime handler, called directly', () => {
  const ws = workspace('lambda-handler');
  let bundle: BundleRef;
  beforeAll(async () => {
    bundle = await ship('jobs/wordcount.ts', ws.work, join(ws.dir.path, 'scratch'));
  });
  afterAll(() => ws.dir.cleanup());

  it('runs a map task and its reduce tasks, downloading the bundle once per environment', async () => {
    const counting = countingGets(ws.work);
    const cacheDir = join(ws.dir.path, 'cache-a');
    const handler = createHandler({ dir: cacheDir, open: () => counting.store, log: () => {} });

    const mapped = await handler({ task: ws.mapTask(), bundle });
    if (!mapped.ok) throw new Error(`map failed: ${mapped.error.message}`);
    const cached = await stat(join(cacheDir, `${bundle.sha256}.mjs`));
    for (const task of await ws.reduceTasks(mapped.result as MapResult)) {
      expect(await handler({ task, bundle })).toMatchObject({ ok: true });
    }

    expect(await ws.readCounts()).toEqual(EXPECTED);
    expect(counting.gets()).toBe(1);
    expect((await stat(join(cacheDir, `${bundle.sha256}.mjs`))).mtimeMs).toBe(cached.mtimeMs);
  });

  it('uses the /tmp copy in a fresh environment instead of downloading again', async () => {
    const counting = countingGets(ws.work);
    const cacheDir = join(ws.dir.path, 'cache-b');
    await createHandler({ dir: cacheDir, log: () => {} })({ task: ws.mapTask('s0-m00001'), bundle });

    const reply = await createHandler({ dir: cacheDir, open: () => counting.store, log: () => {} })({
      task: ws.mapTask('s0-m00002'),
      bundle,
    });

    expect(reply).toMatchObject({ ok: true });
    expect(counting.gets()).toBe(0);
  });

  it('refuses a bundle whose bytes changed after shipping, without importing it', async () => {
    const tampered = new LocalDirStore(join(ws.dir.path, 'tampered'));
    const ref = await ship('jobs/wordcount.ts', tampered, join(ws.dir.path, 'scratch'));
    const original = await readFile(tampered.pathOf(ref.key), 'utf8');
    await writeFile(tampered.pathOf(ref.key), `globalThis.__fanoutTampered = true;\n${original}`);
    const cacheDir = join(ws.dir.path, 'cache-c');

    const reply = await createHandler({ dir: cacheDir, log: () => {} })({ task: ws.mapTask(), bundle: ref });

    expect(reply).toMatchObject({ ok: false, error: { name: 'BundleIntegrityError', retryable: false } });
    expect(reply.ok ? '' : reply.error.message).toContain(ref.sha256);
    expect((globalThis as { __fanoutTampered?: unknown }).__fanoutTampered).toBeUndefined();
    await expect(readdir(cacheDir)).rejects.toThrow(/ENOENT/);
  });

  it('throws only for an event that is not a Fanout invocation', async () => {
    const handler = createHandler({ dir: join(ws.dir.path, 'cache-d'), log: () => {} });
    await expect(handler({ task: ws.mapTask(), bundle: { ...bundle, sha256: '../x' } })).rejects.toThrow(
      /sha256/,
    );
    await expect(handler({ hello: 'world' })).rejects.toThrow(/task/);
  });
});

describe('LambdaInvoker against serverless-offline on loopback', () => {
  const ws = workspace('lambda-invoker');
  const scratch = join(ws.dir.path, 'scratch');
  let emulator: LambdaEmulator;
  let wordcount: BundleRef;
  const invokers: LambdaInvoker[] = [];
  const invoker = (bundle: BundleRef, functionName = 'fanout-runtime', taskTimeoutMs?: number) => {
    const client = createLambdaClient(2, {
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const made = new LambdaInvoker({ functionName, bundle, concurrency: 2, client, taskTimeoutMs });
    invokers.push(made);
    return made;
  };
  beforeAll(async () => {
    [emulator, wordcount] = await Promise.all([
      startLambdaEmulator([{ name: 'fanout-runtime' }, { name: 'fanout-runtime-short', timeoutSeconds: 2 }]),
      ship('jobs/wordcount.ts', ws.work, scratch),
    ]);
  });
  afterAll(async () => {
    await Promise.all(invokers.map((i) => i.close()));
    await emulator?.stop();
    ws.dir.cleanup();
  });

  it('runs a map task and its reduce tasks through InvokeCommand', async () => {
    const lambda = invoker(wordcount);
    const mapped = await lambda.invoke(ws.mapTask());
    await Promise.all((await ws.reduceTasks(mapped as MapResult)).map((t) => lambda.invoke(t)));
    expect(await ws.readCounts()).toEqual(EXPECTED);
  });

  it('rebuilds a task failure as its typed, retryable error', async () => {
    const lambda = invoker(await ship(fixture('always-throws'), ws.work, scratch));
    const poisoned = workspace('lambda-poison', 'fine\npoison\n');
    const err = await lambda.invoke({ ...poisoned.mapTask(), jobId: 'poison' }).catch((e: unknown) => e);
    poisoned.dir.cleanup();
    expect(err).toBeInstanceOf(UserCodeError);
    expect(err).toMatchObject({
      retryable: true,
      context: { jobId: 'poison', taskId: 's0-m00000', attempt: 1 },
    });
    expect((err as Error).message).toContain('cannot handle "poison"');
  });

  it('rebuilds a refused tampered bundle as a non-retryable BundleIntegrityError', async () => {
    const err = await invoker({ ...wordcount, sha256: 'f'.repeat(64) })
      .invoke(ws.mapTask())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleIntegrityError);
    expect(err).toMatchObject({ retryable: false });
  });

  it('turns a handler that throws into a retryable WorkerCrashedError with its message', async () => {
    const err = await invoker({ ...wordcount, sha256: 'not-a-hash' })
      .invoke(ws.mapTask())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toMatch(/Unhandled.*sha256 must be 64 lowercase hex digits/);
  });

  it('turns a runtime that dies mid-task into a retryable WorkerCrashedError, and runs the next attempt afresh', async () => {
    // The job exits the process on this task's first attempt: the emulator answers at once, as
    // Lambda does (not after the function's timeout), and the next invocation gets a new thread.
    const lambda = invoker(await ship(fixture('crash-worker'), ws.work, scratch), 'fanout-runtime-short');
    const err = await lambda.invoke(ws.mapTask('s0-m00001', 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toMatch(/Unhandled.*Runtime exited with error: exit status 3/);
    await expect(lambda.invoke(ws.mapTask('s0-m00001', 2))).resolves.toMatchObject({ kind: 'map' });
  });

  it('abandons an attempt past the task timeout as retryable', async () => {
    const slow = workspace('lambda-slow', 'a\n'.repeat(200));
    const lambda = invoker(await ship(fixture('slow-map'), ws.work, scratch), 'fanout-runtime-short', 300);
    const err = await lambda.invoke(slow.mapTask()).catch((e: unknown) => e);
    slow.dir.cleanup();
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toContain('timed out after 300 ms');
  });

  it('surfaces a 429 as a retryable ThrottledError, and the next attempt goes through', async () => {
    const lambda = invoker(wordcount);
    emulator.throttleNext(1);
    const err = await lambda.invoke(ws.mapTask('s0-m00003')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toContain('ReservedFunctionConcurrentInvocationLimitExceeded');
    await expect(lambda.invoke(ws.mapTask('s0-m00003', 2))).resolves.toMatchObject({ kind: 'map' });
  });

  it('does not retry a missing function', async () => {
    const err = await invoker(wordcount, 'no-such-function')
      .invoke(ws.mapTask())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'FanoutError', retryable: false });
    expect((err as Error).message).toContain('ResourceNotFoundException');
  });

  it('refuses an oversized payload before sending it', async () => {
    const task = ws.mapTask();
    const split = task.splits[0] as MapTask['splits'][number];
    const huge = {
      ...task,
      splits: Array.from({ length: 3000 }, (_, i) => ({ ...split, key: `a-${i}.txt` })),
    };
    const before = emulator.requests();
    const err = await invoker(wordcount)
      .invoke(huge)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(/payload .* is \d{6,} bytes, over the 262144-byte limit/);
    expect(emulator.requests()).toBe(before);
  });
});
