import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTree } from '../../../src/store/remove-tree.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('remove-tree');

describe('removeTree', () => {
  it('removes a folder, its files and its folders, following no link', async () => {
    const root = temp().path;
    const outside = temp().file('keep.txt', 'kept');
    for (let d = 0; d < 3; d++) {
      mkdirSync(join(root, 'tree', `d${d}`, 'deeper'), { recursive: true });
      for (let f = 0; f < 40; f++) writeFileSync(join(root, 'tree', `d${d}`, `f${f}`), 'x');
      writeFileSync(join(root, 'tree', `d${d}`, 'deeper', 'g'), 'y');
    }
    symlinkSync(outside, join(root, 'tree', 'link'));
    await removeTree(join(root, 'tree'));
    expect(existsSync(join(root, 'tree'))).toBe(false);
    expect(existsSync(outside)).toBe(true);
  });

  it('takes a path that is not there, and removes a file', async () => {
    const dir = temp();
    await removeTree(join(dir.path, 'missing'));
    const file = dir.file('one.txt', '1');
    await removeTree(file);
    expect(existsSync(file)).toBe(false);
  });
});
