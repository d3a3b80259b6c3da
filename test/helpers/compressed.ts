import { spawnSync } from 'node:child_process';

/** Formats Fanout refuses, each with the command that writes it to stdout and its magic number. */
export const REFUSED = {
  zstd: { command: ['zstd', '-c', '-q'], magic: [0x28, 0xb5, 0x2f, 0xfd] },
  bzip2: { command: ['bzip2', '-c'], magic: [...Buffer.from('BZh91AY&SY')] },
  xz: { command: ['xz', '-c'], magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  zip: { command: ['zip', '-q', '-', '-'], magic: [0x50, 0x4b, 0x03, 0x04] },
  lz4: { command: ['lz4', '-c', '-q'], magic: [0x04, 0x22, 0x4d, 0x18] },
} as const;

export type RefusedFormat = keyof typeof REFUSED;

/** True when `command` runs here (the compression tools are optional). */
export function hasTool(command: string): boolean {
  return spawnSync(command, ['--help'], { stdio: 'ignore' }).error === undefined;
}

/**
 * `text` compressed by the format's own tool where it is installed; otherwise its magic number
 * followed by junk, which is all Fanout looks at before refusing it.
 */
export function compressedAs(format: RefusedFormat, text: string): Buffer {
  const [command, ...args] = REFUSED[format].command;
  const r = spawnSync(command, args, { input: text });
  if (r.error === undefined && r.status === 0) return r.stdout;
  return Buffer.concat([Buffer.from(REFUSED[format].magic), Buffer.from(`\n${text}`)]);
}
