import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { listInputs } from '../../../src/driver/list-inputs.js';
import { UsageError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('inputs');
afterAll(() => d.cleanup());
d.file('logs/2024-01/a.log', 'aa');
d.file('logs/2024-01/b.txt', 'bbb');
d.file('logs/2024-02/c.log', 'c');
d.file('logs/_SUCCESS', '');
d.file('logs/.hidden', 'h');
d.file('empty/.keep', '');

const names = async (locations: string[]) => (await listInputs(locations)).map((o) => `${o.key}:${o.size}`);

describe('listInputs', () => {
  it('reads a folder recursively, skipping bookkeeping names', async () => {
    expect(await names([`${d.path}/logs`])).toEqual([
      '2024-01/a.log:2',
      '2024-01/b.txt:3',
      '2024-02/c.log:1',
    ]);
  });

  it('expands globs', async () => {
    expect(await names([`${d.path}/logs/**/*.log`])).toEqual(['2024-01/a.log:2', '2024-02/c.log:1']);
    expect(await names([`${d.path}/logs/2024-0[2]/*`])).toEqual(['2024-02/c.log:1']);
  });

  it('takes store URLs the same way as paths', async () => {
    // A URL is rooted where the same path would be, so keys (ctx.input.key) match a local run's.
    const url = pathToFileURL(`${d.path}/logs`).href;
    expect(await names([`${url}/2024-01/a.log`])).toEqual(['a.log:2']);
    expect(await names([`${url}/**/*.txt`])).toEqual(['2024-01/b.txt:3']);
    expect(await names([url])).toEqual(await names([`${d.path}/logs`]));
  });

  it('lists each object once across overlapping locations', async () => {
    expect(await names([`${d.path}/logs/2024-01`, `${d.path}/logs/2024-01/a.log`])).toEqual([
      'a.log:2',
      'b.txt:3',
    ]);
  });

  it('accepts an empty folder and rejects what does not exist', async () => {
    expect(await names([`${d.path}/empty`])).toEqual([]);
    await expect(listInputs([`${d.path}/nope`])).rejects.toThrow(UsageError);
    await expect(listInputs([`${d.path}/logs/*.csv`])).rejects.toThrow(/matches no files/);
  });

  it('lists a file once however locations reach it: nested folders, a glob and the file, a link', async () => {
    const n = tempDir('nest');
    try {
      n.file('nest/a.txt', 'a');
      n.file('nest/sub/b.txt', 'bb');
      symlinkSync(join(n.path, 'nest/a.txt'), join(n.path, 'nest/link.txt'));
      const found = await listInputs([
        join(n.path, 'nest'),
        join(n.path, 'nest/sub'),
        join(n.path, 'nest/**/*.txt'),
        join(n.path, 'nest/sub/b.txt'),
      ]);
      expect(found.map((o) => o.key)).toEqual(['a.txt', 'sub/b.txt']);
    } finally {
      n.cleanup();
    }
  });

  it('skips excluded folders: a work or output folder inside the input', async () => {
    const n = tempDir('exclude');
    try {
      n.file('data/a.txt', 'a');
      n.file('data/w/jobs/j1/job.json', '{}');
      n.file('data/w/bundles/x.mjs', 'export {}');
      n.file('data/out/part-00000.jsonl', '{}');
      const exclude = [join(n.path, 'data/w/jobs'), join(n.path, 'data/w/bundles'), join(n.path, 'data/out')];
      expect((await listInputs([join(n.path, 'data')], { exclude })).map((o) => o.key)).toEqual(['a.txt']);
      await expect(listInputs([join(n.path, 'data/out')], { exclude })).rejects.toThrow(
        /holds only this run's own output or work files/,
      );
    } finally {
      n.cleanup();
    }
  });

  describe('a folder a Fanout job wrote', () => {
    const cases: [string, string[], boolean][] = [
      ['finished (_SUCCESS)', ['_FANOUT', '_SUCCESS'], true],
      ['marked but not finished', ['_FANOUT'], false],
      ['with attempts left under _temporary/', ['_temporary/s0-r00001-a1/part-00001.jsonl'], false],
      ['written by another tool, without markers', [], true],
    ];
    it.each(cases)('is read only when complete: %s', async (_what, names, readable) => {
      const n = tempDir('complete');
      try {
        n.file('out/part-00000.jsonl', '{"key":"a","value":1}\n');
        for (const name of names) n.file(`out/${name}`, '');
        const locations = [
          join(n.path, 'out'),
          join(n.path, 'out/part-00000.jsonl'),
          join(n.path, '**/*.jsonl'),
        ];
        for (const location of locations) {
          const listed = listInputs([location]);
          if (readable)
            expect((await listed).map((o) => o.key.split('/').pop())).toEqual(['part-00000.jsonl']);
          else
            await expect(listed).rejects.toThrow(/did not finish \(no _SUCCESS\); pass --allow-incomplete/);
          expect(await listInputs([location], { allowIncomplete: true })).toHaveLength(1);
        }
      } finally {
        n.cleanup();
      }
    });
  });
});
