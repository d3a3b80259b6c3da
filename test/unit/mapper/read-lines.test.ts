import { randomBytes } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { listInputs } from '../../../src/driver/list-inputs.js';
import { splitObject } from '../../../src/driver/plan-splits.js';
import { BadRecordError, InputChangedError, UnreadableCompressionError } from '../../../src/errors.js';
import { readFirstLine } from '../../../src/mapper/read-first-line.js';
import { readLines } from '../../../src/mapper/read-lines.js';
import type { Split } from '../../../src/protocol/task-types.js';
import type { ObjectStore } from '../../../src/store/object-store.js';
import { openStore } from '../../../src/store/open-store.js';
import { compressedAs } from '../../helpers/compressed.js';
import { linesOfWhole, linesViaSplits, storeWith } from '../../helpers/split-reader.js';
import { tempDirs } from '../../helpers/temp.js';

/** Descriptors this process holds open on `path` (Linux lists them under /proc/self/fd). */
const openOn = (path: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed since it was listed
    }
  }).length;

const long = 'x'.repeat(100);

describe('readLines over byte-range splits', () => {
  const cases: { name: string; text: string }[] = [
    { name: 'empty file', text: '' },
    { name: 'one line, final newline', text: 'alpha beta\n' },
    { name: 'missing final newline', text: 'alpha\nbeta\ngamma' },
    { name: 'CRLF line endings', text: 'alpha\r\nbeta\r\ngamma\r\n' },
    { name: 'CRLF without final newline', text: 'alpha\r\nbeta' },
    { name: 'blank lines kept', text: 'a\n\n\nb\n' },
    { name: 'only newlines', text: '\n\n\n' },
    { name: 'multi-byte UTF-8 everywhere', text: 'café naïve\n日本語のテキスト\n🎉🎉🎉 emoji\nÅngström\n' },
    { name: 'record longer than a split', text: `short\n${long}\nshort again\n${long}` },
    { name: 'newline exactly at split edges', text: 'abc\ndef\nghi\njkl\n' },
  ];
  const sizes = [1, 2, 3, 4, 5, 7, 16, 64, 1000];

  for (const c of cases) {
    it.each(sizes)(`${c.name}: split size %i yields exactly the whole file's lines`, async (size) => {
      const store = storeWith('f.txt', c.text);
      expect(await linesViaSplits(store, 'f.txt', size)).toEqual(linesOfWhole(c.text));
    });
  }

  it('reads a gzip object as one split, whatever the split size', async () => {
    const text = 'one\r\ntwo\nthree café\nfour';
    const store = storeWith('f.txt.gz', text, true);
    expect(await linesViaSplits(store, 'f.txt.gz', 3)).toEqual(linesOfWhole(text));
  });

  it('any text at any split size yields the same lines as reading it whole', async () => {
    const alphabet = fc.constantFrom('a', 'b', ' ', '\n', '\r\n', 'é', '日', '🎉', '\n\n');
    await fc.assert(
      fc.asyncProperty(
        fc.array(alphabet, { maxLength: 80 }),
        fc.integer({ min: 1, max: 40 }),
        async (parts, size) => {
          const text = parts.join('');
          const store = storeWith('p.txt', text);
          expect(await linesViaSplits(store, 'p.txt', size)).toEqual(linesOfWhole(text));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('readLines over chunks cut anywhere', () => {
  /** A store whose streams come in chunks of `chunkSize` bytes: every line can be cut anywhere. */
  function chunkedStore(bytes: Buffer, chunkSize: number): ObjectStore {
    return {
      async *stream(_key: string, range?: { start: number; end: number }) {
        const from = range?.start ?? 0;
        const to = range?.end ?? bytes.length;
        for (let i = from; i < to; i += chunkSize) yield bytes.subarray(i, Math.min(to, i + chunkSize));
      },
    } as unknown as ObjectStore;
  }

  async function linesOf(
    store: ObjectStore,
    size: number,
    splitSize: number,
    gzip = false,
  ): Promise<string[]> {
    const out: string[] = [];
    const splits = gzip
      ? [{ store: 'mem://', key: 'k', start: 0, end: size, size, compression: 'gzip' as const }]
      : splitObject({ store: 'mem://', key: 'k', size }, splitSize);
    for (const split of splits) for await (const batch of readLines(store, split)) out.push(...batch);
    return out;
  }

  it('any text, any chunk size, any split size: the lines of the whole', async () => {
    const text = fc
      .array(fc.constantFrom('a', 'bc', ' ', '\n', '\r\n', 'é', '日'), { maxLength: 60 })
      .map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 20 }),
        async (t, chunk, split) => {
          const bytes = Buffer.from(t);
          expect(await linesOf(chunkedStore(bytes, chunk), bytes.length, split)).toEqual(linesOfWhole(t));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a gzip stream whose last line ends a decompressed chunk gets no extra empty line', async () => {
    // zlib hands out 16 KiB chunks: the line ends exactly at the end of the second.
    for (const text of [`${'x'.repeat(2 * 16384 - 1)}\n`, `a\n${'x'.repeat(2 * 16384 - 3)}\n`]) {
      const gz = gzipSync(text);
      expect(await linesOf(chunkedStore(gz, 1000), gz.length, 0, true)).toEqual(linesOfWhole(text));
    }
  });
});

describe('readLines past a split end', () => {
  /** A store over `bytes` that records the range of every stream it opens. */
  function rangeStore(bytes: Buffer): { store: ObjectStore; ranges: [number, number][] } {
    const ranges: [number, number][] = [];
    const store = {
      async *stream(_key: string, range?: { start: number; end: number }) {
        const from = range?.start ?? 0;
        const to = Math.min(range?.end ?? bytes.length, bytes.length);
        ranges.push([from, to]);
        yield bytes.subarray(from, to);
      },
    } as unknown as ObjectStore;
    return { store, ranges };
  }

  const lines = (n: number, width: number) =>
    Array.from({ length: n }, (_, i) => String(i).padEnd(width, '.')).join('\n');

  it('reads a small split and the end of its last line in one request, a few KiB past its end', async () => {
    const text = lines(2000, 40);
    const { store, ranges } = rangeStore(Buffer.from(text));
    const size = Buffer.byteLength(text);
    const split: Split = { store: 'mem://', key: 'k', start: 8192, end: 12288, size };
    const got: string[] = [];
    for await (const batch of readLines(store, split)) got.push(...batch);
    // One read from the byte before the split, as far past its end as the split is long.
    expect(ranges).toEqual([[8191, 12288 + 4097]]);
    // The lines that start inside [8192, 12288).
    const owned: string[] = [];
    let at = 0;
    for (const line of linesOfWhole(text)) {
      if (at >= 8192 && at < 12288) owned.push(line);
      at += Buffer.byteLength(line) + 1;
    }
    expect(got).toEqual(owned);
  });

  it('follows a record many times longer than the first step, doubling each read', async () => {
    const text = `short\n${'y'.repeat(100_000)}\nafter\n`;
    const { store, ranges } = rangeStore(Buffer.from(text));
    const size = Buffer.byteLength(text);
    const got: string[] = [];
    for (const split of splitObject({ store: 'mem://', key: 'k', size }, 4096)) {
      for await (const batch of readLines(store, split)) got.push(...batch);
    }
    expect(got).toEqual(linesOfWhole(text));
    // The first split's reads: [0, 8 KiB), then 8, 16 and 32 KiB more, and the rest of the file.
    expect(ranges.slice(0, 5).map(([a, b]) => b - a)).toEqual([8192, 8192, 16384, 32768, size - 65536]);
  });
});

describe('readLines of a .gz object that is not gzip', () => {
  it.each([
    ['cut short', gzipSync('one\ntwo\n'.repeat(500)).subarray(0, 40), 'unexpected end of file'],
    ['plain text', Buffer.from('one\ntwo\n'), 'incorrect header check'],
  ])('fails without a retry when it is %s, naming the file', async (_what, bytes, why) => {
    const store = storeWith('a.txt.gz', bytes);
    const err = await linesViaSplits(store, 'a.txt.gz', 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRecordError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toBe(`input ${store.pathOf('a.txt.gz')} is not valid gzip (${why})`);
  });

  it('says a .gz file cut short while it is read changed, rather than that it is not gzip', async () => {
    const bytes = gzipSync('one\ntwo\n'.repeat(500));
    // The object passes the check at open, then ends early: truncated after it was opened.
    const store = {
      async *stream() {
        yield bytes.subarray(0, 40);
      },
      head: async (key: string) => ({ key, size: 40, etag: 'v2' }),
    } as unknown as ObjectStore;
    const split: Split = {
      store: 's3://b/',
      key: 'a.txt.gz',
      start: 0,
      end: bytes.length,
      size: bytes.length,
      compression: 'gzip',
      etag: 'v1',
    };
    const err = await (async () => {
      for await (const _ of readLines(store, split));
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputChangedError);
    expect((err as Error).message).toContain(`(planned ${bytes.length} bytes, now 40)`);
  });
});

describe('readLines of compressed objects, told by their first bytes', () => {
  const text = 'one\r\ntwo\nthree café\nfour';

  it('reads a gzip object named as plain text', async () => {
    const store = storeWith('f.txt', gzipSync(text));
    expect(await linesViaSplits(store, 'f.txt', 1 << 20)).toEqual(linesOfWhole(text));
  });

  it('reads every member of a gzip file of several members, as `cat a.gz b.gz` makes', async () => {
    const [a, b] = ['alpha\nbeta\n', 'gamma\ndelta'];
    const store = storeWith('f.txt.gz', Buffer.concat([gzipSync(a), gzipSync(b)]));
    expect(await linesViaSplits(store, 'f.txt.gz', 1 << 20)).toEqual(linesOfWhole(a + b));
  });

  it('reads a .br object as Brotli, whatever the split size', async () => {
    const store = storeWith('f.txt.br', brotliCompressSync(text));
    expect(await linesViaSplits(store, 'f.txt.br', 3)).toEqual(linesOfWhole(text));
  });

  it('fails without a retry on a .br object that is not Brotli, naming the file', async () => {
    const store = storeWith('f.txt.br', 'plain text\n');
    const err = await linesViaSplits(store, 'f.txt.br', 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRecordError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(
      new RegExp(`^input ${store.pathOf('f.txt.br')} is not valid Brotli \\(`),
    );
  });

  it.each([
    ['zstd', 'a.log'],
    ['bzip2', 'a.log'],
    ['xz', 'a.log'],
    ['zip', 'a.log'],
    ['lz4', 'a.log'],
    ['zstd', 'a.log.zst'],
    ['bzip2', 'a.log.bz2'],
  ] as const)('refuses %s in %s without a retry, naming the file and the format', async (format, key) => {
    const store = storeWith(key, compressedAs(format, text));
    const err = await linesViaSplits(store, key, 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreadableCompressionError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toBe(
      `input ${store.pathOf(key)} is ${format}-compressed, which Fanout cannot read yet: decompress it first`,
    );
  });

  it.runIf(existsSync('/proc/self/fd'))('closes the file it refuses', async () => {
    // Far more than one chunk, so the stream is still open when the first chunk is refused.
    const store = storeWith(
      'a.log',
      Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(1 << 20)]),
    );
    await expect(linesViaSplits(store, 'a.log', 1 << 30)).rejects.toThrow(UnreadableCompressionError);
    await vi.waitFor(() => expect(openOn(store.pathOf('a.log'))).toBe(0));
  });

  it('refuses an object named .zst even when its bytes do not show zstd', async () => {
    const store = storeWith('a.log.zst', text);
    await expect(linesViaSplits(store, 'a.log.zst', 1 << 20)).rejects.toThrow(UnreadableCompressionError);
  });

  it('reads text that merely starts like a magic number as text', async () => {
    const like = 'BZh9 is a block size\nPK is a stadium\n';
    const store = storeWith('a.txt', like);
    expect(await linesViaSplits(store, 'a.txt', 4)).toEqual(linesOfWhole(like));
  });

  it('fails a split at byte 0 that does not cover its gzip object: planning took it for text', async () => {
    const store = storeWith('f.txt', gzipSync('x\n'.repeat(5000)));
    const info = await store.head('f.txt');
    if (!info) throw new Error('no head');
    const split: Split = { store: store.url, key: 'f.txt', start: 0, end: 10, size: info.size };
    const err = await (async () => {
      for await (const _ of readLines(store, split));
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputChangedError);
    expect((err as Error).message).toBe(
      `input ${store.pathOf('f.txt')} is gzip-compressed but was planned as plain text in byte ranges: it changed while the job ran; rerun once it is stable`,
    );
  });
});

describe('readFirstLine of a gzip object', () => {
  it('reads the header of a small gzip CSV named .csv, which planning did not look into', async () => {
    const store = storeWith('orders.csv', gzipSync('id,a,b\n1,2,3\n'));
    const info = await store.head('orders.csv');
    if (!info) throw new Error('no head');
    const [split] = splitObject({ store: store.url, ...info }, 1 << 20);
    expect(split).not.toHaveProperty('compression');
    expect(await readFirstLine(store, split as Split)).toBe('id,a,b');
  });

  it.runIf(existsSync('/proc/self/fd'))('closes the file once it has the first line', async () => {
    // Far more than zlib buffers, so the reader stops while the file is still being fed in.
    const text = Array.from({ length: 50_000 }, (_, i) => `${i},${(i * 7919) % 10007},${i.toString(36)}`);
    const store = storeWith('orders.csv.gz', `id,a,b\n${text.join('\n')}`, true);
    const info = await store.head('orders.csv.gz');
    if (!info) throw new Error('no head');
    const split = splitObject({ store: store.url, ...info }, 1 << 20)[0] as Split;

    expect(await readFirstLine(store, split)).toBe('id,a,b');
    await vi.waitFor(() => expect(openOn(store.pathOf('orders.csv.gz'))).toBe(0));
  });
});

describe('readLines of an input that changes after planning', () => {
  const setup = tempDirs('changed');

  /** Plans `text` as one listed input file, as a job would, and returns its splits. */
  async function planned(text: string, splitSize: number) {
    const d = setup();
    const path = d.file('big.txt', text);
    const objects = await listInputs([path]);
    return { path, splits: objects.flatMap((o) => splitObject(o, splitSize)) };
  }

  async function readAll(split: Split): Promise<string[]> {
    const out: string[] = [];
    for await (const batch of readLines(openStore(split.store), split)) out.push(...batch);
    return out;
  }

  const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');

  it('fails a split whose file was truncated since planning, naming the file and both sizes', async () => {
    const text = lines(2000);
    const { path, splits } = await planned(text, 16 * 1024);
    truncateSync(path, 30_000);

    const err = await readAll(splits[3] as Split).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputChangedError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toBe(
      `input ${path} changed while the job ran (planned ${text.length} bytes, now 30000): rerun once it is stable`,
    );
  });

  it('fails a split whose file was replaced by another of the same size', async () => {
    const text = lines(100);
    const { path, splits } = await planned(text, 1 << 20);
    const other = join(dirname(path), 'other.txt');
    writeFileSync(other, text.replaceAll('x', 'y'));
    renameSync(other, path);

    await expect(readAll(splits[0] as Split)).rejects.toThrow(
      `input ${path} changed while the job ran (planned ${text.length} bytes, now ${text.length} but rewritten)`,
    );
  });

  it('fails a split whose file is deleted since planning', async () => {
    const { path, splits } = await planned(lines(100), 1 << 20);
    rmSync(path);
    await expect(readAll(splits[0] as Split)).rejects.toThrow(/now gone\): rerun once it is stable$/);
  });

  it('fails a split whose file is truncated while it is being read', async () => {
    // Larger than the stream's read-ahead, so most of the file is read after the truncation.
    const text = lines(100_000);
    const { path, splits } = await planned(text, 64 << 20);
    const split = splits[0] as Split;
    let batches = 0;
    const err = await (async () => {
      for await (const _ of readLines(openStore(split.store), split)) {
        if (batches++ === 0) truncateSync(path, 100_000);
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputChangedError);
    expect((err as Error).message).toContain(`(planned ${text.length} bytes, now 100000)`);
  });

  it('retries a read that ends early while the object is still the one planned', async () => {
    const bytes = Buffer.from('a\nb\nc\nd\n');
    const store = {
      async *stream() {
        yield bytes.subarray(0, 4);
      },
      head: async (key: string) => ({ key, size: bytes.length, etag: 'v1' }),
    } as unknown as ObjectStore;
    const split: Split = { store: 's3://b/', key: 'k', start: 0, end: 8, size: 8, etag: 'v1' };
    const err = await (async () => {
      for await (const _ of readLines(store, split));
    })().catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(InputChangedError);
    expect(err).toMatchObject({ retryable: true, message: 'reading s3://b/k ended at byte 4 of 8' });
  });
});
