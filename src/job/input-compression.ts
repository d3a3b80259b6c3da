/**
 * How an input object is compressed: told by its first bytes where the format has a magic number,
 * by its name otherwise. Compressed bytes are never read as text: an object is decompressed while it
 * is read (gzip, Brotli) or refused (the rest), and either way it is one split, since a compressed
 * stream cannot be entered mid-way.
 */

/** A compression the engine recognises. */
export type Compression = 'gzip' | 'brotli' | 'zstd' | 'bzip2' | 'xz' | 'zip' | 'lz4';

/** The compressions decompressed while reading (Node's zlib has both); the others are refused. */
export type ReadableCompression = 'gzip' | 'brotli';

/** How a compression is named in messages. */
export const COMPRESSION_NAMES: Readonly<Record<Compression, string>> = {
  gzip: 'gzip',
  brotli: 'Brotli',
  zstd: 'zstd',
  bzip2: 'bzip2',
  xz: 'xz',
  zip: 'zip',
  lz4: 'lz4',
};

/** Bytes from the start of an object that compressionOf needs to see (bzip2 needs 10). */
export const SNIFF_BYTES = 16;

const SUFFIXES: readonly (readonly [string, Compression])[] = [
  ['.gz', 'gzip'],
  ['.br', 'brotli'],
  ['.zst', 'zstd'],
  ['.bz2', 'bzip2'],
  ['.xz', 'xz'],
  ['.zip', 'zip'],
  ['.lz4', 'lz4'],
];

/** The compression an object's name says, if any: `logs/a.log.gz` is gzip. */
export function compressionByName(key: string): Compression | undefined {
  for (const [suffix, c] of SUFFIXES) if (key.endsWith(suffix)) return c;
  return undefined;
}

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0): boolean =>
  head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b);

/**
 * The compression an object's first bytes show, if any. Each magic number holds bytes that valid
 * UTF-8 text does not (0x8B, 0xB5 and 0xFD are never a character's first byte; the others are
 * control characters), except bzip2's, which is checked over all of its 10 bytes ("BZh", the block
 * size, then pi or sqrt(pi) in BCD). Brotli has no magic number: only its name tells it.
 */
export function compressionByMagic(head: Uint8Array): Compression | undefined {
  if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  // zstd's skippable frames, 0x184D2A50 to 0x184D2A5F little-endian, may come before its first frame.
  if (startsWith(head, [0x2a, 0x4d, 0x18], 1) && ((head[0] as number) & 0xf0) === 0x50) return 'zstd';
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (startsWith(head, [0x04, 0x22, 0x4d, 0x18])) return 'lz4';
  if (
    startsWith(head, [0x50, 0x4b]) &&
    [0x0304, 0x0506, 0x0708].includes(((head[2] ?? 0) << 8) | (head[3] ?? 0))
  )
    return 'zip';
  const level = head[3] ?? 0;
  if (
    startsWith(head, [0x42, 0x5a, 0x68]) &&
    level >= 0x31 &&
    level <= 0x39 &&
    (startsWith(head, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], 4) ||
      startsWith(head, [0x17, 0x72, 0x45, 0x38, 0x50, 0x90], 4))
  )
    return 'bzip2';
  return undefined;
}

/**
 * How an object is compressed, from its name and its first SNIFF_BYTES bytes. The bytes win where
 * they show a format (a gzip file named `.txt` is gzip, a zstd file named `.gz` is zstd), except for
 * a `.br` name: any bytes may begin a Brotli stream. Without a magic number the name decides, so a
 * `.gz` file that is not gzip still fails as not valid gzip rather than being read as text.
 */
export function compressionOf(key: string, head: Uint8Array): Compression | undefined {
  const named = compressionByName(key);
  if (named === 'brotli') return named;
  return compressionByMagic(head) ?? named;
}

/** True for the compressions read by decompressing as the object streams in. */
export const isReadable = (c: Compression): c is ReadableCompression => c === 'gzip' || c === 'brotli';
