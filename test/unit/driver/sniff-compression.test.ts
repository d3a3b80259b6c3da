import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listInputs } from '../../../src/driver/list-inputs.js';
import { sniffCompression } from '../../../src/driver/sniff-compression.js';
import { InputChangedError } from '../../../src/errors.js';
import { compressedAs } from '../../helpers/compressed.js';
import { tempDirs } from '../../helpers/temp.js';

const text = Array.from({ length: 300 }, (_, i) => `line ${i} of some text`).join('\n');

describe('sniffCompression', () => {
  const setup = tempDirs('sniff');

  /** The listed objects of a folder holding `files`, by key, after sniffing at `splitSize`. */
  async function sniffed(files: Record<string, string | Buffer>, splitSize: number) {
    const d = setup();
    for (const [name, bytes] of Object.entries(files)) d.file(name, bytes);
    const objects = await sniffCompression(await listInputs([d.path]), splitSize);
    return Object.fromEntries(objects.map((o) => [o.key, o.compression]));
  }

  it('marks an object larger than a split with the compression its first bytes show', async () => {
    const gz = gzipSync(text);
    const zst = compressedAs('zstd', text);
    const found = await sniffed({ 'a.txt': gz, 'b.log': zst, 'c.txt': text }, 64);
    expect(gz.length).toBeGreaterThan(64);
    expect(zst.length).toBeGreaterThan(64);
    expect(found).toEqual({ 'a.txt': 'gzip', 'b.log': 'zstd', 'c.txt': undefined });
  });

  it('does not read objects of a split or less, which the map task looks into as it opens them', async () => {
    const gz = gzipSync(text);
    expect(await sniffed({ 'a.txt': gz }, gz.length)).toEqual({ 'a.txt': undefined });
  });

  it('does not read objects whose name says their compression', async () => {
    // Not gzip at all: read, it would be marked nothing, and splitObject keeps it whole by its name.
    expect(await sniffed({ 'a.txt.gz': text }, 64)).toEqual({ 'a.txt.gz': undefined });
  });

  it('fails when an object it reads is no longer the one listed', async () => {
    const d = setup();
    const path = d.file('a.txt', gzipSync(text));
    const objects = await listInputs([d.path]);
    writeFileSync(join(d.path, 'a.txt'), 'short');
    const err = await sniffCompression(objects, 64).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputChangedError);
    expect((err as Error).message).toContain(`input ${path} changed while the job ran`);
  });
});
