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
    // A file: URL names the store at the filesystem root; keys are the rest of the path.
    const url = pathToFileURL(`${d.path}/logs`).href;
    const root = d.path.slice(1);
    expect(await names([`${url}/2024-01/a.log`])).toEqual([`${root}/logs/2024-01/a.log:2`]);
    expect(await names([`${url}/**/*.txt`])).toEqual([`${root}/logs/2024-01/b.txt:3`]);
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
});
