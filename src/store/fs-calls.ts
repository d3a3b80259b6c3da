import type { BigIntStats } from 'node:fs';
import * as fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * The file-system calls a LocalDirStore makes on file descriptors and paths, made one of two ways:
 * through libuv's thread pool (the event loop goes on meanwhile), or blocking the calling thread.
 *
 * A thread-pool call hands the call to a pool thread and the result back to the loop, which costs
 * more than the call itself on a local disk: measured on a 2-core VM, open and close took 57 µs that
 * way against 5 µs blocking, a stat 72 µs against 5 µs. A thread that does nothing but run one task
 * after another (a local worker thread) loses nothing by blocking, and a 4 KiB map task makes a dozen
 * such calls; a driver, which must answer its workers, keeps the thread pool.
 */
export interface FsCalls {
  open(path: string, flags: 'r' | 'w'): Promise<number>;
  /** Bytes read into `buf[offset, offset + length)` from `position`; 0 at the end of the file. */
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Bytes of `buf[offset, offset + length)` written at the file's current position. */
  write(fd: number, buf: Uint8Array, offset: number, length: number): Promise<number>;
  close(fd: number): Promise<void>;
  fstat(fd: number): Promise<BigIntStats>;
  stat(path: string): Promise<BigIntStats>;
  /** Makes a folder and its parents; one that exists is no error. */
  mkdirs(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; one that does not exist is no error. */
  remove(path: string): Promise<void>;
}

const openCb = promisify(fs.open);
const readCb = promisify(fs.read);
const writeCb = promisify(fs.write);
const closeCb = promisify(fs.close);
const fstatCb = promisify(fs.fstat);
const statCb = promisify(fs.stat);
const mkdirCb = promisify(fs.mkdir);
const renameCb = promisify(fs.rename);
const rmCb = promisify(fs.rm);

export const threadPoolFs: FsCalls = {
  open: (path, flags) => openCb(path, flags),
  read: async (fd, buf, offset, length, position) =>
    (await readCb(fd, buf, offset, length, position)).bytesRead,
  write: async (fd, buf, offset, length) => (await writeCb(fd, buf, offset, length)).bytesWritten,
  close: (fd) => closeCb(fd),
  fstat: (fd) => fstatCb(fd, { bigint: true }),
  stat: (path) => statCb(path, { bigint: true }),
  mkdirs: async (path) => {
    await mkdirCb(path, { recursive: true });
  },
  rename: (from, to) => renameCb(from, to),
  remove: (path) => rmCb(path, { force: true }),
};

/** The same calls, blocking; each returns a settled promise, so a failure is a rejection as above. */
export const blockingFs: FsCalls = {
  open: async (path, flags) => fs.openSync(path, flags),
  read: async (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  write: async (fd, buf, offset, length) => fs.writeSync(fd, buf, offset, length),
  close: async (fd) => fs.closeSync(fd),
  fstat: async (fd) => fs.fstatSync(fd, { bigint: true }),
  stat: async (path) => fs.statSync(path, { bigint: true }),
  mkdirs: async (path) => {
    fs.mkdirSync(path, { recursive: true });
  },
  rename: async (from, to) => fs.renameSync(from, to),
  remove: async (path) => fs.rmSync(path, { force: true }),
};
