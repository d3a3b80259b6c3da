import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpCommand, parseCpArgs } from '../../../src/cli/cp-command.js';
import { main } from '../../../src/cli/main.js';
import { FanoutError, UsageError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('cp');
afterAll(() => d.cleanup());

/** Captures what a command writes. */
function sink() {
  let text = '';
  return {
    write: (s: string) => {
      text += s;
    },
    text: () => text,
  };
}

describe('mr cp arguments', () => {
  it.each([
    { args: [], message: /at least one source and a destination, got none/ },
    { args: ['only-one'], message: /at least one source and a destination, got "only-one"/ },
    { args: ['a', ''], message: /an empty path/ },
  ])('rejects $args', ({ args, message }) => {
    expect(() => parseCpArgs(args)).toThrow(UsageError);
    expect(() => parseCpArgs(args)).toThrow(message);
  });

  it('takes the last path as the destination', () => {
    expect(parseCpArgs(['a', 'b/*.txt', 's3://bucket/in/'])).toEqual({
      sources: ['a', 'b/*.txt'],
      dest: 's3://bucket/in/',
    });
  });

  it.each([
    { why: 'a missing source', args: () => ['cp', join(d.path, 'missing.txt'), join(d.path, 'x/')] },
    { why: 'a glob that matches nothing', args: () => ['cp', join(d.path, '*.nothing'), join(d.path, 'x/')] },
    { why: 'an unsupported destination scheme', args: () => ['cp', d.file('s.txt', 's'), 'ftp://host/x/'] },
    { why: 'a missing destination', args: () => ['cp', d.file('t.txt', 't')] },
  ])('exits 2 on $why', async ({ args }) => {
    expect(await main(args())).toBe(2);
  });

  it('refuses to copy a file onto itself', async () => {
    const file = d.file('self/a.txt', 'a');
    await expect(cpCommand([file, join(d.path, 'self/')], {}, sink())).rejects.toThrow(/onto itself/);
  });
});

describe('mr cp between local folders', () => {
  it('copies a folder recursively, keeping paths below it, _SUCCESS included', async () => {
    d.file('src/a.txt', 'alpha');
    d.file('src/deep/b.txt', 'beta');
    d.file('src/_SUCCESS', '{}');
    const out = sink();
    const summary = await cpCommand([join(d.path, 'src'), join(d.path, 'dst/')], {}, out);
    expect(summary).toMatchObject({ files: 3, bytes: 11 });
    expect(await readFile(join(d.path, 'dst/deep/b.txt'), 'utf8')).toBe('beta');
    expect(await readFile(join(d.path, 'dst/_SUCCESS'), 'utf8')).toBe('{}');
    expect(out.text().trim().split('\n')).toHaveLength(4);
    expect(out.text()).toMatch(/copied 3 files, 11 B in [\d.]+ s\n$/);
  });

  it('names the copy after the destination when one file goes to a path that is not a folder', async () => {
    const file = d.file('one/a.txt', 'one');
    const out = sink();
    await cpCommand([file, join(d.path, 'one/renamed.txt')], { quiet: true }, out);
    expect(await readFile(join(d.path, 'one/renamed.txt'), 'utf8')).toBe('one');
    expect(out.text()).toBe('');
  });

  it('keeps paths below the static part of a glob', async () => {
    d.file('g/x/1.log', '1');
    d.file('g/y/2.log', '2');
    d.file('g/y/3.txt', '3');
    const summary = await cpCommand([join(d.path, 'g/**/*.log'), join(d.path, 'g-out')], {}, sink());
    expect(summary.files).toBe(2);
    expect(await readFile(join(d.path, 'g-out/y/2.log'), 'utf8')).toBe('2');
  });
});

describe('mr cp failures', () => {
  it('stops starting copies after one fails and names the file', async () => {
    for (let i = 0; i < 20; i++) d.file(`many/f${String(i).padStart(2, '0')}.txt`, `${i}`);
    const blocker = d.file('blocked', 'a file where a folder is needed');
    const err = await cpCommand([join(d.path, 'many'), `${blocker}/`], {}, sink()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FanoutError);
    expect((err as Error).message).toMatch(/^cannot copy .*many\/f\d\d\.txt \(0 of 20 files copied\): /);
  });
});
