import type { ObjectStore } from '../store/object-store.js';

/** Text gathered before it is written as one chunk. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes the text `pieces` yields as one object, in chunks of about 64 KiB as the pieces are made:
 * the whole text is never held, as a string or as bytes. The object appears only once every piece
 * is written; a piece that throws leaves none.
 */
export async function writePieces(store: ObjectStore, key: string, pieces: Iterable<string>): Promise<void> {
  const w = await store.openWriter(key);
  try {
    let chunk = '';
    for (const piece of pieces) {
      chunk += piece;
      if (chunk.length >= CHUNK_CHARS) {
        await w.write(Buffer.from(chunk));
        chunk = '';
      }
    }
    if (chunk !== '') await w.write(Buffer.from(chunk));
    await w.close();
  } catch (err) {
    await w.abort();
    throw err;
  }
}
