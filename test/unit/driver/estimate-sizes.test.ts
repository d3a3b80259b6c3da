import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { estimateSizes, gzipIsize } from '../../../src/driver/estimate-sizes.js';
import { listInputs } from '../../../src/driver/list-inputs.js';
import { planMapInputs } from '../../../src/driver/plan-splits.js';
import { sniffCompression } from '../../../src/driver/sniff-compression.js';
import { InputChangedError } from '../../../src/errors.js';
import { tempDirs } from '../../helpers/temp.js';
import { wordText } from '../../helpers/words.js';

describe('gzipIsize', () => {
  it('reads the uncompressed size from the last 4 bytes of a gzip file', () => {
    const text = wordText(5000, 3000, 7);
    const gz = gzipSync(text);
    expect(gzipIsize(gz.subarray(gz.length - 4))).toBe(Buffer.byteLength(text));
    // A whole file does as well as its trailer.
    expect(gzipIsize(gz)).toBe(Buffer.byteLength(text));
  });

  it("gives a file of several members its last member's size only", () => {
    const a = 'a'.repeat(10_000);
    const b = 'b'.repeat(300);
    expect(gzipIsize(Buffer.concat([gzipSync(a), gzipSync(b)]))).toBe(300);
  });
});

describe('estimateSizes', () => {
  const setup = tempDirs('estimate');
  const SPLIT = 64 * 1024;

  /** The listed, sniffed and estimated objects of a folder holding `files`, by key. */
  async function estimated(files: Record<string, string | Buffer>) {
    const d = setup();
    for (const [name, bytes] of Object.entries(files)) d.file(name, bytes);
    const objects = await estimateSizes(await sniffCompression(await listInputs([d.path]), SPLIT), SPLIT);
    return { objects, sizes: Object.fromEntries(objects.map((o) => [o.key, o.uncompressedSize])) };
  }

  it('reads the size of gzip objects by name or by first bytes, and of nothing else', async () => {
    const text = wordText(8000, 5000, 3);
    const textBytes = Buffer.byteLength(text);
    const gz = gzipSync(text);
    expect(gz.length).toBeGreaterThan(SPLIT);
    const { sizes } = await estimated({
      'a.txt.gz': gz,
      // Larger than a split, so sniffCompression reads its first bytes.
      'b.log': gz,
      // Under 1/64 of a split: weighed by the assumed ratio instead, without a request.
      'tiny.gz': gzipSync('x y z\n'),
      'c.txt.br': brotliCompressSync(text),
      'd.txt': text,
    });
    expect(sizes).toEqual({
      'a.txt.gz': textBytes,
      'b.log': textBytes,
      'tiny.gz': undefined,
      'c.txt.br': undefined,
      'd.txt': undefined,
    });
  });

  it('never estimates a gzip object below its own size', async () => {
    // Random bytes do not compress: ISIZE is a little under the file's size.
    const noise = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 2654435761) >>> 24));
    const gz = gzipSync(noise);
    const { sizes } = await estimated({ 'n.gz': gz });
    expect(sizes['n.gz']).toBe(Math.max(gz.length, noise.length));
  });

  it('lets four gzip files of the same size that fit one split compressed make several tasks', async () => {
    const files = Object.fromEntries(
      [0, 1, 2, 3].map((i) => [`part-${i}.txt.gz`, gzipSync(wordText(1000, 4000, 10 + i))]),
    );
    const { objects } = await estimated(files);
    const compressed = objects.reduce((n, o) => n + o.size, 0);
    expect(compressed).toBeLessThan(SPLIT);
    // Their compressed bytes fit one split, which packing by stored bytes made one task; their text does not.
    expect(planMapInputs(objects, SPLIT).length).toBeGreaterThanOrEqual(2);
  });

  it('fails when an object it reads is no longer the one listed', async () => {
    const d = setup();
    const path = d.file('a.gz', gzipSync(wordText(3000, 4000, 5)));
    const objects = await listInputs([d.path]);
    writeFileSync(join(d.path, 'a.gz'), 'short');
    const err = await estimateSizes(objects, SPLIT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputChangedError);
    expect((err as Error).message).toContain(`input ${path} changed while the job ran`);
  });
});
