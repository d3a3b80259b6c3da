import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { ObjectWriter } from '../store/object-store.js';

/** An ObjectWriter that gzips what is written to it into `out`, as one gzip member, streamed. */
export function gzipWriter(out: ObjectWriter): ObjectWriter {
  const gz = createGzip();
  const ready: Buffer[] = [];
  let failure: unknown;
  gz.on('data', (c: Buffer) => ready.push(c));
  gz.on('error', (err) => {
    failure ??= err;
  });
  const drain = async () => {
    if (failure !== undefined) throw failure;
    for (let c = ready.shift(); c !== undefined; c = ready.shift()) await out.write(c);
  };
  return {
    async write(chunk) {
      // The callback runs once zlib has taken the chunk in: the caller may then reuse its memory.
      await new Promise<void>((resolve, reject) => gz.write(chunk, (err) => (err ? reject(err) : resolve())));
      await drain();
    },
    async close() {
      const ended = once(gz, 'end');
      gz.end();
      await ended;
      await drain();
      await out.close();
    },
    async abort() {
      gz.destroy();
      await out.abort();
    },
  };
}
