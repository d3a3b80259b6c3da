import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BadRecordError,
  defineJob,
  InputChangedError,
  JobCancelledError,
  type JobResult,
  type RunOptions,
  runJob,
  TaskFailedError,
  TooManyBadRecordsError,
  UnreadableCompressionError,
  UsageError,
} from '../../src/index.js';
import { compressedAs } from '../helpers/compressed.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const fixture = (name: string) => resolve('test/fixtures/jobs', `${name}.ts`);
const wordcount = resolve('jobs/wordcount.ts');

/**
 * Runs a job over `d`'s `in/` into `out/`, with its state in `work/`, expecting it to fail: what it
 * threw, and the tasks it retried on the way.
 */
async function failedRun(
  d: { path: string },
  job: Parameters<typeof runJob>[0],
  extra: Partial<RunOptions> = {},
): Promise<{ err: unknown; retries: string[] }> {
  const retries: string[] = [];
  const err = await runJob(job, {
    input: [join(d.path, 'in')],
    output: join(d.path, 'out'),
    workDir: join(d.path, 'work'),
    ...extra,
    onProgress: (e) => {
      if (e.type === 'task-retry') retries.push(e.taskId);
    },
  }).catch((e: unknown) => e);
  return { err, retries };
}

describe('failures and retries on the local backend', () => {
  const setup = tempDirs('fail');

  it('retries a map that throws on its first attempt and still counts exactly', async () => {
    const d = setup();
    const a = d.file('in/a.txt', wordText(300, 50, 1));
    const b = d.file('in/b.txt', wordText(300, 50, 2));
    const retries: string[] = [];
    const result = await runJob(fixture('flaky-map'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 512,
      concurrency: 2,
      retryBaseMs: 1,
      onProgress: (e) => {
        if (e.type === 'task-retry') retries.push(e.taskId);
      },
    });
    expect(retries).toEqual(['s0-m00000']);
    expect(result.counters.retries).toBe(1);
    expect(await readOutput(join(d.path, 'out'))).toEqual(
      countWords(...[a, b].map((p) => readFileSync(p, 'utf8'))),
    );
  });

  it('fails the job when a map always throws: names the task, its input and the cause; no _SUCCESS', async () => {
    const d = setup();
    d.file('in/a.txt', 'fine\nfine\n');
    d.file('in/b.txt', 'fine\npoison pill\nfine\n');
    const run = runJob(fixture('always-throws'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 8,
      maxAttempts: 3,
      retryBaseMs: 1,
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    const message = (err as Error).message;
    expect(message).toMatch(
      /task s0-m\d{5} \(.*b\.txt\[\d+, \d+\)\) failed after 3 attempts: map threw: cannot handle "poison pill"/,
    );
    expect(existsSync(join(d.path, 'out', '_SUCCESS'))).toBe(false);
    const left = existsSync(join(d.path, 'out')) ? readdirSync(join(d.path, 'out')) : [];
    expect(left).toEqual([]);

    // The job's state in the store says what happened, task by task.
    const [jobId] = readdirSync(join(d.path, 'work', 'jobs'));
    const jobDir = join(d.path, 'work', 'jobs', jobId ?? '');
    const status = JSON.parse(readFileSync(join(jobDir, 'status.json'), 'utf8')) as { state: string };
    expect(status.state).toBe('failed');
    const tasks = JSON.parse(readFileSync(join(jobDir, 's0', 'map-tasks.json'), 'utf8')) as {
      tasks: Record<string, { state: string; attempts: number; error?: string }>;
    };
    const failed = Object.values(tasks.tasks).filter((t) => t.state === 'failed');
    expect(failed).toEqual([{ state: 'failed', attempts: 3, error: expect.stringMatching(/poison pill/) }]);
    expect(existsSync(join(jobDir, 's0', 'plan.json'))).toBe(true);
  });

  it('survives a worker thread that exits mid-task', async () => {
    const d = setup();
    const text = wordText(400, 80, 3);
    d.file('in/a.txt', text);
    const result = await runJob(fixture('crash-worker'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 1024,
      concurrency: 2,
      retryBaseMs: 1,
    });
    expect(result.counters.retries).toBe(1);
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords(text));
    // The dead attempt's spill folder is removed by the pool, as the thread could not.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`fanout-${result.jobId}-`))).toEqual([]);
  });

  it('survives a worker thread that runs out of memory', async () => {
    const d = setup();
    const text = `${'oom boom\n'.repeat(200)}${wordText(200, 30, 4)}`;
    d.file('in/a.txt', text);
    const errors: string[] = [];
    await runJob(fixture('crash-worker'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 512,
      concurrency: 2,
      workerMemoryMb: 64,
      retryBaseMs: 1,
      onProgress: (e) => {
        if (e.type === 'task-retry') errors.push(e.error);
      },
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/out of memory/);
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords(text));
  });

  it.each([
    ['wordcount', wordcount],
    ['wordcount-js', resolve('jobs/wordcount-js.ts')],
  ])(
    '%s groups a reduce partition larger than the memory budget by spilling and merging runs',
    async (_name, job) => {
      const d = setup();
      const texts = [wordText(3000, 5000, 5), wordText(3000, 5000, 6)];
      for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
      const spills = { map: 0, merge: 0, reduce: 0 };
      const result = await runJob(job, {
        input: [join(d.path, 'in')],
        output: join(d.path, 'out'),
        workDir: join(d.path, 'work'),
        splitSize: 4096,
        partitions: 2,
        memoryBudget: 16 * 1024,
        concurrency: 2,
        onProgress: (e) => {
          if (e.type === 'task-done') spills[e.phase] += e.metrics.spills;
        },
      });
      const reduceInputBytes = result.stages[0]?.shuffleBytes ?? 0;
      expect(reduceInputBytes / 2).toBeGreaterThan(16 * 1024 * 4);
      // Both sides went past the budget: map tasks spilled partitioned runs, reducers sorted runs.
      expect(spills.map).toBeGreaterThan(0);
      expect(spills.reduce).toBeGreaterThan(2);
      expect(result.counters.spills).toBe(spills.map + spills.reduce);
      expect(await readOutput(join(d.path, 'out'))).toEqual(countWords(...texts));
    },
  );

  it('fails fast, without retries, on a line that is not JSON, naming the file and line', async () => {
    const d = setup();
    const path = d.file('in/a.jsonl', '{"id":1}\n{"id":2,\n{"id":3}\n');
    const { err, retries } = await failedRun(d, fixture('bad-json'));
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).cause).toBeInstanceOf(BadRecordError);
    expect((err as Error).message).toMatch(/failed after 1 attempt: bad JSON line/);
    expect((err as Error).message).toMatch(new RegExp(`: "\\{\\\\"id\\\\":2," \\(${path} line 2\\)$`));
    expect(retries).toEqual([]);
  });

  const orders = [
    'order_id,country,product,quantity,unit_price',
    'o-1,DE,"Lamp, desk",1,39.99',
    'o-2,FR,"12"" pizza stone,1,34.50',
    'o-3,US,Notebook,4,4.50',
  ];
  it.each([
    ['a row', orders, 3, 3],
    ['the header', ['order_id,country,"product,quantity,unit_price', ...orders.slice(1, 2)], 3, 1],
  ])(
    'fails fast, without retries, on a CSV quote left open in %s, naming the file and line',
    async (_what, rows, field, line) => {
      const d = setup();
      const path = d.file('in/orders.csv', `${rows.join('\n')}\n`);
      const { err, retries } = await failedRun(d, resolve('jobs/revenue-by-country.ts'), { retryBaseMs: 1 });
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause).toBeInstanceOf(BadRecordError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `failed after 1 attempt: bad CSV line: unclosed quote in field ${field}: .* \\(${path} line ${line}\\)$`,
        ),
      );
      expect(retries).toEqual([]);
    },
  );

  it('numbers a bad line in a later split from the first line at or after its first byte', async () => {
    const d = setup();
    const good = Array.from({ length: 40 }, (_, i) => `{"id":${i}}`);
    const lines = [...good.slice(0, 30), '{"id":', ...good.slice(30)];
    const text = `${lines.join('\n')}\n`;
    const path = d.file('in/a.jsonl', text);
    const splitSize = 100;
    // The oracle: the split holding the bad line starts where its line starts at or after a
    // multiple of the split size; count the lines from there.
    const starts = lines.map((_, i) => lines.slice(0, i).join('\n').length + (i > 0 ? 1 : 0));
    const bad = 30;
    const splitStart = Math.floor((starts[bad] as number) / splitSize) * splitSize;
    const first = starts.findIndex((s) => s >= splitStart);
    const err = await runJob(fixture('bad-json'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize,
    }).catch((e: unknown) => e);
    expect(splitStart).toBeGreaterThan(0);
    expect((err as Error).message).toMatch(
      new RegExp(`\\(${path} line ${bad - first + 1} after byte ${splitStart}\\)$`),
    );
  });

  it('fails without retries when an input file shrinks while the job reads it; no _SUCCESS', async () => {
    const d = setup();
    const path = d.file('in/big.txt', wordText(4000, 100, 7));
    const size = statSync(path).size;
    const retries: string[] = [];
    process.env.FANOUT_TEST_TRUNCATE = path;
    process.env.FANOUT_TEST_TRUNCATE_TO = String(Math.floor(size / 2));
    try {
      const err = await runJob(fixture('truncate-input'), {
        input: [join(d.path, 'in')],
        output: join(d.path, 'out'),
        workDir: join(d.path, 'work'),
        splitSize: 4096,
        concurrency: 2,
        retryBaseMs: 1,
        onProgress: (e) => {
          if (e.type === 'task-retry') retries.push(e.taskId);
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause).toBeInstanceOf(InputChangedError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `failed after 1 attempt: input ${path} changed while the job ran \\(planned ${size} bytes, now ${Math.floor(size / 2)}\\): rerun once it is stable$`,
        ),
      );
      expect(retries).toEqual([]);
      expect(existsSync(join(d.path, 'out', '_SUCCESS'))).toBe(false);
    } finally {
      delete process.env.FANOUT_TEST_TRUNCATE;
      delete process.env.FANOUT_TEST_TRUNCATE_TO;
    }
  });

  it.each([
    ['cut short', gzipSync(wordText(2000, 50, 8)).subarray(0, 500), 'unexpected end of file'],
    ['plain text', Buffer.from('not gzip at all\n'), 'incorrect header check'],
  ])('fails after 1 attempt on a .gz file that is %s, naming the file', async (_what, bytes, why) => {
    const d = setup();
    const path = d.file('in/a.txt.gz', bytes);
    d.file('in/b.txt', 'fine\n');
    const { err, retries } = await failedRun(d, wordcount, { retryBaseMs: 1 });
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).cause).toBeInstanceOf(BadRecordError);
    expect((err as Error).message).toMatch(
      new RegExp(`failed after 1 attempt: input ${path} is not valid gzip \\(${why}\\)$`),
    );
    expect(retries).toEqual([]);
  });

  // Larger than a split, planning reads an object's first bytes; smaller, the map task does.
  it.each([
    ['zstd', 'a.log.zst', 'larger'],
    ['zstd', 'a.log', 'smaller'],
    ['bzip2', 'a.log', 'larger'],
    ['bzip2', 'a.log', 'smaller'],
    ['xz', 'a.txt', 'smaller'],
    ['zip', 'a.zip', 'larger'],
    ['lz4', 'a.log', 'smaller'],
  ] as const)(
    'refuses %s input in %s %s than a split after 1 attempt, naming the file and the format',
    async (format, name, size) => {
      const d = setup();
      const bytes = compressedAs(format, wordText(size === 'larger' ? 2000 : 5, 50, 9));
      expect(bytes.length > 1024).toBe(size === 'larger');
      const path = d.file(`in/${name}`, bytes);
      d.file('in/b.txt', 'fine\n');
      const { err, retries } = await failedRun(d, wordcount, { splitSize: 1024, retryBaseMs: 1 });
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause).toBeInstanceOf(UnreadableCompressionError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `failed after 1 attempt: input ${path} is ${format}-compressed, which Fanout cannot read yet: decompress it first$`,
        ),
      );
      expect(retries).toEqual([]);
      expect(existsSync(join(d.path, 'out', '_SUCCESS'))).toBe(false);
    },
  );

  describe('with onBadRecord: skip', () => {
    /** JSONL documents `{ k }`, with bad lines after the documents at the given indexes. */
    function jsonl(keys: string[], badAfter: Record<number, string>, last = false) {
      const lines: string[] = [];
      const bad: { line: number; text: string }[] = [];
      keys.forEach((k, i) => {
        lines.push(JSON.stringify(last && i === keys.length - 1 ? { k, last } : { k }));
        const text = badAfter[i];
        if (text !== undefined) {
          lines.push(text);
          bad.push({ line: lines.length, text });
        }
      });
      return { text: `${lines.join('\n')}\n`, keys, bad };
    }
    const keysOf = (n: number, seed: number) =>
      Array.from({ length: n }, (_, i) => ['alpha', 'beta', 'gamma', 'delta'][(i * 7 + seed) % 4] as string);
    /** The oracle: documents per key, from the keys the documents were made with. */
    const countKeys = (...keys: string[][]) => {
      const counts = new Map<string, unknown>();
      for (const k of keys.flat())
        counts.set(JSON.stringify(k), ((counts.get(JSON.stringify(k)) as number) ?? 0) + 1);
      return counts;
    };
    /** Every record in the output's `_bad_records/`, by file name. */
    const badRecordsIn = (
      out: string,
    ): Record<string, { file: string; line: number; reason: string; text: string }[]> => {
      const dir = join(out, '_bad_records');
      return Object.fromEntries(
        readdirSync(dir).map((name) => [
          name,
          readFileSync(join(dir, name), 'utf8')
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l)),
        ]),
      );
    };
    const withMax = async <T>(max: number, run: () => Promise<T>): Promise<T> => {
      process.env.FANOUT_TEST_MAX_BAD_RECORDS = String(max);
      try {
        return await run();
      } finally {
        delete process.env.FANOUT_TEST_MAX_BAD_RECORDS;
      }
    };
    const BAD = ['{"k":"alpha",', 'not json', '{"k": }'];

    it('maps the good lines, counts the 3 bad ones and writes them to _bad_records/ with file, line and reason', async () => {
      const d = setup();
      const a = jsonl(keysOf(40, 1), { 3: BAD[0] as string, 20: BAD[1] as string });
      const b = jsonl(keysOf(25, 2), { 0: BAD[2] as string });
      const pa = d.file('in/a.jsonl', a.text);
      const pb = d.file('in/b.jsonl', b.text);
      const out = join(d.path, 'out');

      const result = await withMax(5, () =>
        runJob(fixture('skip-bad-json'), {
          input: [join(d.path, 'in')],
          output: out,
          workDir: join(d.path, 'work'),
        }),
      );

      expect(await readOutput(out)).toEqual(countKeys(a.keys, b.keys));
      expect(result.counters).toMatchObject({ badRecords: 3, inputRecords: 65 });
      const success = JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as JobResult;
      expect(success.counters.badRecords).toBe(3);
      const written = Object.values(badRecordsIn(out)).flat();
      expect(written.map(({ file, line, text }) => ({ file, line, text }))).toEqual([
        ...a.bad.map((r) => ({ file: pa, ...r })),
        ...b.bad.map((r) => ({ file: pb, ...r })),
      ]);
      for (const r of written) expect(r.reason).toMatch(/^bad JSON line: \S/);
      expect(readdirSync(out).filter((n) => n.startsWith('_'))).toEqual([
        '_FANOUT',
        '_SUCCESS',
        '_bad_records',
        '_report',
      ]);
    });

    it('fails after 1 attempt when a task alone passes maxBadRecords, naming the count, the limit and the first; no _SUCCESS', async () => {
      const d = setup();
      const a = jsonl(keysOf(40, 1), { 3: BAD[0] as string, 20: BAD[1] as string, 30: BAD[2] as string });
      const path = d.file('in/a.jsonl', a.text);
      const retries: string[] = [];
      const err = await withMax(2, () =>
        runJob(fixture('skip-bad-json'), {
          input: [join(d.path, 'in')],
          output: join(d.path, 'out'),
          workDir: join(d.path, 'work'),
          retryBaseMs: 1,
          onProgress: (e) => {
            if (e.type === 'task-retry') retries.push(e.taskId);
          },
        }),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).cause).toBeInstanceOf(TooManyBadRecordsError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `failed after 1 attempt: 3 bad records, more than maxBadRecords \\(2\\) allows; the first: ${path} line 5: bad JSON line: .*: "\\{\\\\"k\\\\":\\\\"alpha\\\\","$`,
        ),
      );
      expect(retries).toEqual([]);
      expect(existsSync(join(d.path, 'out')) ? readdirSync(join(d.path, 'out')) : []).toEqual([]);
    });

    it('fails the job once the committed tasks together pass maxBadRecords, naming the first by task', async () => {
      const d = setup();
      // One bad line near the start of each file: each in its own task's first split.
      const files = ['a', 'b', 'c'].map((f, i) => ({ f, ...jsonl(keysOf(30, i), { 0: BAD[i] as string }) }));
      const paths = files.map(({ f, text }) => d.file(`in/${f}.jsonl`, text));
      const err = await withMax(2, () =>
        runJob(fixture('skip-bad-json'), {
          input: [join(d.path, 'in')],
          output: join(d.path, 'out'),
          workDir: join(d.path, 'work'),
          splitSize: 64,
          concurrency: 2,
        }),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TooManyBadRecordsError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^3 bad records, more than maxBadRecords \\(2\\) allows; the first: ${paths[0]} line 2: bad JSON line: `,
        ),
      );
      expect(existsSync(join(d.path, 'out')) ? readdirSync(join(d.path, 'out')) : []).toEqual([]);
    });

    it('keeps only the committed attempt’s bad records when a map attempt is retried', async () => {
      const d = setup();
      // Packed into one task: a.jsonl's bad lines are written before b.jsonl's last document throws.
      const a = jsonl(keysOf(40, 1), { 3: BAD[0] as string, 20: BAD[1] as string });
      const b = jsonl(keysOf(25, 2), { 10: BAD[2] as string }, true);
      d.file('in/a.jsonl', a.text);
      d.file('in/b.jsonl', b.text);
      const out = join(d.path, 'out');
      const result = await runJob(fixture('flaky-skip-bad-json'), {
        input: [join(d.path, 'in')],
        output: out,
        workDir: join(d.path, 'work'),
        retryBaseMs: 1,
      });
      expect(result.counters).toMatchObject({ retries: 1, badRecords: 3 });
      expect(await readOutput(out)).toEqual(countKeys(a.keys, b.keys));
      const written = badRecordsIn(out);
      expect(Object.keys(written)).toEqual(['s0-m00000.jsonl']);
      expect(written['s0-m00000.jsonl']?.map((r) => r.text)).toEqual([...a.bad, ...b.bad].map((r) => r.text));
      const leftovers = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter(
        (p) => p.startsWith('_temporary') || basename(p).startsWith('.fanout-tmp-'),
      );
      expect(leftovers).toEqual([]);
    });

    it('drops the bad records of an attempt that wrote them all and then failed', async () => {
      const d = setup();
      const a = jsonl(keysOf(40, 1), { 3: BAD[0] as string, 20: BAD[1] as string, 30: BAD[2] as string });
      d.file('in/a.jsonl', a.text);
      const out = join(d.path, 'out');
      // With a combiner the partitioner runs as the task writes its shuffle object, after its bad
      // records are written (without one, each record goes to its partition as it is emitted).
      let failed = false;
      const job = defineJob({
        name: 'flaky-partitioner',
        input: { format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 5 },
        map(doc, emit) {
          emit((doc as { k: string }).k, 1);
        },
        combine: (_k: string, ones: number[]) => ones.reduce((a, b) => a + b, 0),
        partitioner(_key, n) {
          if (!failed) {
            failed = true;
            throw new Error('transient failure');
          }
          return n - 1;
        },
        reduce(k, counts, emit) {
          emit(
            k,
            [...counts].reduce((a, b) => a + b, 0),
          );
        },
      });
      const retries: string[] = [];
      const result = await runJob(job, {
        input: [join(d.path, 'in')],
        output: out,
        workDir: join(d.path, 'work'),
        retryBaseMs: 1,
        onProgress: (e) => {
          if (e.type === 'task-retry') retries.push(`${e.taskId}#${e.attempt}: ${e.error}`);
        },
      });
      expect(retries).toEqual(['s0-m00000#1: partitioner threw: transient failure']);
      expect(result.counters.badRecords).toBe(3);
      const written = badRecordsIn(out);
      expect(Object.keys(written)).toEqual(['s0-m00000.jsonl']);
      expect(written['s0-m00000.jsonl']?.map((r) => r.line)).toEqual(a.bad.map((r) => r.line));
      expect(existsSync(join(out, '_temporary'))).toBe(false);
    });

    it('keeps the first stage’s bad records through a later stage, which reads the engine’s own output', async () => {
      const d = setup();
      const a = jsonl(keysOf(40, 1), { 3: BAD[0] as string, 20: BAD[1] as string });
      d.file('in/a.jsonl', a.text);
      const out = join(d.path, 'out');
      const job = defineJob({
        name: 'skip-two-stages',
        input: { format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 5 },
        stages: [
          {
            map(doc, emit) {
              emit((doc as { k: string }).k, 1);
            },
            reduce(k, ones, emit) {
              emit(k, [...ones].length);
            },
          },
          {
            // Every key's count under one key: the total of good documents.
            map(record, emit) {
              emit('total', (record as { value: number }).value);
            },
            reduce(k, counts: Iterable<number>, emit) {
              let n = 0;
              for (const c of counts) n += c;
              emit(k, n);
            },
          },
        ],
      });
      const result = await runJob(job, {
        input: [join(d.path, 'in')],
        output: out,
        workDir: join(d.path, 'work'),
      });
      expect(await readOutput(out)).toEqual(new Map([['"total"', a.keys.length]]));
      expect(result.counters.badRecords).toBe(2);
      expect(
        Object.values(badRecordsIn(out))
          .flat()
          .map((r) => r.line),
      ).toEqual(a.bad.map((r) => r.line));
    });
  });

  it.each([
    ['map', 'NaN', Number.NaN],
    ['map', 'Infinity', Number.POSITIVE_INFINITY],
    ['map', '-Infinity', Number.NEGATIVE_INFINITY],
    ['reduce', 'NaN', Number.NaN],
    ['reduce', 'Infinity', Number.POSITIVE_INFINITY],
  ])(
    'fails after 1 attempt when %s emits %s as a key, which JSON would write as null',
    async (where, name, bad) => {
      const d = setup();
      d.file('in/a.txt', 'a\nbad\nb\n');
      const job = defineJob({
        name: 'non-finite-keys',
        map(line, emit) {
          emit(where === 'map' && line === 'bad' ? bad : line, 1);
        },
        reduce(key, ones, emit) {
          emit(where === 'reduce' && key === 'bad' ? bad : key, [...ones].length);
        },
      });
      const { err, retries } = await failedRun(d, job, { retryBaseMs: 1 });
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `failed after 1 attempt: ${where} emitted a key that is not a finite number \\(${name}\\)`,
        ),
      );
      expect(retries).toEqual([]);
      expect(existsSync(join(d.path, 'out', '_SUCCESS'))).toBe(false);
    },
  );

  /** A circular object: JSON.stringify throws on it, a naive walk never ends. */
  const circular = (): Record<string, unknown> => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    return o;
  };
  /** Emits (line, 1) for each line, except what `bad` emits or throws for the line "bad". */
  const badMap = (bad: (emit: (k: unknown, v: unknown) => void) => void) =>
    defineJob({
      name: 'bad-map',
      map(line, emit: (k: unknown, v: unknown) => void) {
        if (line === 'bad') bad(emit);
        else emit(line, 1);
      },
      reduce(key, ones, emit) {
        emit(key, [...ones].length);
      },
    });
  /** Counts lines, except what `bad` emits for the key "bad". */
  const badReduce = (bad: (emit: (k: unknown, v: unknown) => void) => void) =>
    defineJob({
      name: 'bad-reduce',
      map(line, emit) {
        emit(line, 1);
      },
      reduce(key, ones, emit) {
        if (key === 'bad') bad(emit);
        else emit(key, [...ones].length);
      },
    });

  it.each([
    [
      'a function key',
      badMap((emit) => emit(() => 1, 1)),
      'map emitted a key of type function; keys and values must be JSON values',
    ],
    [
      'a symbol key',
      badMap((emit) => emit(Symbol('k'), 1)),
      'map emitted a key of type symbol; keys and values must be JSON values',
    ],
    [
      'a BigInt key',
      badMap((emit) => emit(10n, 1)),
      'map emitted a key of type bigint; keys and values must be JSON values',
    ],
    [
      'an undefined value',
      badMap((emit) => emit('k', undefined)),
      'map emitted an undefined value; keys and values must be JSON values',
    ],
    [
      'a function value',
      badMap((emit) => emit('k', () => 1)),
      'map emitted a value of type function; keys and values must be JSON values',
    ],
    [
      'a circular key',
      badMap((emit) => emit(circular(), 1)),
      'map emitted a key that cannot be written as JSON (circular structure)',
    ],
    [
      'a circular value',
      badMap((emit) => emit('k', circular())),
      'map emitted a value that cannot be written as JSON (circular structure)',
    ],
    [
      'a value holding a BigInt',
      badMap((emit) => emit('k', { n: 1n })),
      'map emitted a value that cannot be written as JSON (it holds a BigInt)',
    ],
    [
      'a reduce function value',
      badReduce((emit) => emit('k', () => 1)),
      'reduce emitted a value of type function; keys and values must be JSON values',
    ],
    [
      'a reduce BigInt key',
      badReduce((emit) => emit(1n, 1)),
      'reduce emitted a key of type bigint; keys and values must be JSON values',
    ],
    [
      'a reduce circular value',
      badReduce((emit) => emit('k', circular())),
      'reduce emitted a value that cannot be written as JSON (circular structure)',
    ],
  ])('fails after 1 attempt with one line on %s, leaving no temporary files', async (_name, job, message) => {
    const d = setup();
    d.file('in/a.txt', 'a\nbad\nb\n');
    const retries: string[] = [];
    const err = await runJob(job, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      retryBaseMs: 1,
      onProgress: (e) => {
        if (e.type === 'task-retry') retries.push(e.error);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as Error).message).toMatch(/^task s0-[mr]\d{5} \(.*\) failed after 1 attempt: /);
    expect((err as Error).message.replace(/^.*failed after 1 attempt: /, '')).toBe(message);
    expect(retries).toEqual([]);
    // Every writer the failed attempt opened was aborted: none left its temporary file behind.
    const temporary = readdirSync(d.path, { recursive: true, encoding: 'utf8' }).filter((p) =>
      basename(p).startsWith('.fanout-tmp-'),
    );
    expect(temporary).toEqual([]);
  });

  it('shows a thrown non-Error value as JSON, and retries it as it would an Error', async () => {
    const d = setup();
    d.file('in/a.txt', 'a\nbad\nb\n');
    const retries: string[] = [];
    const err = await runJob(
      badMap(() => {
        throw { code: 42 };
      }),
      {
        input: [join(d.path, 'in')],
        output: join(d.path, 'out'),
        workDir: join(d.path, 'work'),
        maxAttempts: 2,
        retryBaseMs: 1,
        onProgress: (e) => {
          if (e.type === 'task-retry') retries.push(e.error);
        },
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as Error).message).toMatch(
      /failed after 2 attempts: map threw a non-Error value: \{"code":42\}$/,
    );
    expect(retries).toEqual(['map threw a non-Error value: {"code":42}']);
  });

  it('rejects user mistakes with a UsageError', async () => {
    const d = setup();
    d.file('in/a.txt', 'x\n');
    d.file('used/part-00000.jsonl', '{}\n');
    const base = { workDir: join(d.path, 'work') };
    await expect(runJob(fixture('not-a-job'), { ...base, input: [join(d.path, 'in')] })).rejects.toThrow(
      /does not export a job/,
    );
    await expect(runJob(wordcount, { ...base, input: [join(d.path, 'missing')] })).rejects.toThrow(
      /input not found/,
    );
    await expect(runJob(wordcount, { ...base, input: [join(d.path, 'in/*.csv')] })).rejects.toThrow(
      /matches no files/,
    );
    await expect(
      runJob(wordcount, { ...base, input: [join(d.path, 'in')], output: join(d.path, 'used') }),
    ).rejects.toThrow(UsageError);
    await expect(runJob(wordcount, { ...base, input: [join(d.path, 'in')], concurrency: 0 })).rejects.toThrow(
      /concurrency must be a positive integer, got 0/,
    );
  });

  it('stops a cancelled run: no new tasks, no _SUCCESS, no part files', async () => {
    const d = setup();
    d.file('in/a.txt', Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n'));
    const cancel = new AbortController();
    let done = 0;
    const err = await runJob(fixture('slow-map'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 64,
      concurrency: 2,
      signal: cancel.signal,
      onProgress: (e) => {
        if (e.type === 'task-done' && ++done === 2) cancel.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    expect(done).toBeLessThan(6);
    expect(existsSync(join(d.path, 'out')) ? readdirSync(join(d.path, 'out')) : []).toEqual([]);
  });

  it('treats empty input as success with empty output', async () => {
    const d = setup();
    d.file('in/empty.txt', '');
    const result = await runJob(wordcount, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
    });
    expect(result.counters).toMatchObject({ inputRecords: 0, outputRecords: 0 });
    expect(await readOutput(join(d.path, 'out'))).toEqual(new Map());
  });

  it('runs a job object defined in the same program', async () => {
    const d = setup();
    d.file('in/a.txt', 'b a\nc a\n');
    const job = defineJob({
      name: 'inline',
      map(line, emit) {
        for (const w of line.split(' ')) emit(w, 1);
      },
      reduce(w, ones, emit) {
        emit(w, [...ones].length);
      },
    });
    await runJob(job, {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
    });
    expect(await readOutput(join(d.path, 'out'))).toEqual(countWords('b a\nc a\n'));
  });
});
