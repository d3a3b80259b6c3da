import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  compressionByMagic,
  compressionByName,
  compressionOf,
  SNIFF_BYTES,
} from '../../../src/job/input-compression.js';
import { compressedAs, hasTool, REFUSED, type RefusedFormat } from '../../helpers/compressed.js';

const text = 'GET /index.html 200\nGET /about 404\n'.repeat(20);
const bytes = (...b: number[]) => Buffer.from(b);

describe('compressionByMagic', () => {
  it.each([
    ['gzip', gzipSync(text)],
    ['gzip', Buffer.concat([gzipSync('a\n'), gzipSync('b\n')])],
    ['zstd', bytes(0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58)],
    ['zstd', bytes(0x50, 0x2a, 0x4d, 0x18, 0x04, 0x00, 0x00, 0x00)], // a skippable frame first
    ['zstd', bytes(0x5f, 0x2a, 0x4d, 0x18, 0x00)],
    ['bzip2', Buffer.from('BZh91AY&SY\x01\xcb')],
    ['bzip2', Buffer.concat([Buffer.from('BZh9'), bytes(0x17, 0x72, 0x45, 0x38, 0x50, 0x90)])], // empty
    ['xz', bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04)],
    ['zip', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00)],
    ['zip', bytes(0x50, 0x4b, 0x05, 0x06, 0x00, 0x00)], // an empty archive
    ['lz4', bytes(0x04, 0x22, 0x4d, 0x18, 0x64, 0x40)],
  ])('tells %s from its first bytes', (format, head) => {
    expect(compressionByMagic(head.subarray(0, SNIFF_BYTES))).toBe(format);
  });

  it.each([
    ['plain text', Buffer.from(text)],
    ['JSON lines', Buffer.from('{"id":1}\n{"id":2}\n')],
    ['CSV', Buffer.from('order_id,country\no-1,DE\n')],
    ['UTF-8 text', Buffer.from('日本語のテキスト\n')],
    ['text that starts like bzip2', Buffer.from('BZh9 is a block size\n')],
    ['text that starts like zip', Buffer.from('PK is a stadium\n')],
    ['an empty object', Buffer.alloc(0)],
    ['one byte of gzip', bytes(0x1f)],
    ['Brotli, which has no magic number', brotliCompressSync(text)],
  ])('finds no compression in %s', (_what, head) => {
    expect(compressionByMagic(head.subarray(0, SNIFF_BYTES))).toBeUndefined();
  });

  it.for(Object.keys(REFUSED) as RefusedFormat[])(
    'tells the real output of the %s tool, where it is installed',
    (format, t) => {
      if (!hasTool(REFUSED[format].command[0])) t.skip(); // the hand-written magic numbers above still ran
      expect(compressionByMagic(compressedAs(format, text).subarray(0, SNIFF_BYTES))).toBe(format);
    },
  );
});

describe('compressionOf', () => {
  it.each([
    ['a.log.gz', Buffer.from(text), 'gzip'], // so a .gz file that is not gzip fails as not gzip
    ['a.log', gzipSync(text), 'gzip'],
    ['a.log.gz', bytes(0x28, 0xb5, 0x2f, 0xfd), 'zstd'],
    ['a.log.br', brotliCompressSync(text), 'brotli'],
    ['a.log.br', gzipSync(text), 'brotli'], // any bytes may begin a Brotli stream
    ['a.log.zst', Buffer.from(text), 'zstd'],
    ['a.log.bz2', Buffer.from(text), 'bzip2'],
    ['a.log', Buffer.from(text), undefined],
    ['a.log', brotliCompressSync(text), undefined],
  ])('takes %s holding its bytes for %s', (key, head, expected) => {
    expect(compressionOf(key, head.subarray(0, SNIFF_BYTES))).toBe(expected);
  });

  it('names every suffix it knows', () => {
    expect(
      ['gz', 'br', 'zst', 'bz2', 'xz', 'zip', 'lz4', 'txt', 'gzip'].map((s) => compressionByName(`a.${s}`)),
    ).toEqual(['gzip', 'brotli', 'zstd', 'bzip2', 'xz', 'zip', 'lz4', undefined, undefined]);
  });
});
