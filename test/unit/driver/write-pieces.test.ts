import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePieces } from '../../../src/driver/write-pieces.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import type { ObjectWriter } from '../../../src/store/object-store.js';
import { tempDirs } from '../../helpers/temp.js';

describe('writePieces', () => {
  const setup = tempDirs('write-pieces');

  it('writes the pieces as one object, in chunks of about 64 KiB, multi-byte text whole', async () => {
    const d = setup();
    const store = new LocalDirStore(d.path);
    const pieces = Array.from({ length: 5_000 }, (_, i) => `piece ${i} · é\n`);
    const chunks: number[] = [];
    const open = store.openWriter.bind(store);
    store.openWriter = async (key): Promise<ObjectWriter> => {
      const w = await open(key);
      return {
        ...w,
        write: (c) => {
          chunks.push(c.byteLength);
          return w.write(c);
        },
      };
    };
    await writePieces(store, 'a/report.json', pieces);
    expect(readFileSync(join(d.path, 'a', 'report.json'), 'utf8')).toBe(pieces.join(''));
    expect(chunks.length).toBeGreaterThan(1);
    for (const n of chunks.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(64 * 1024);
  });

  it('leaves no object when a piece throws', async () => {
    const d = setup();
    const store = new LocalDirStore(d.path);
    function* pieces() {
      yield 'x'.repeat(100_000);
      throw new Error('made up');
    }
    await expect(writePieces(store, 'b/index.html', pieces())).rejects.toThrow('made up');
    expect(readdirSync(join(d.path, 'b'))).toEqual([]);
  });
});
