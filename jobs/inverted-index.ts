/**
 * Inverted index over JSONL documents `{ "id": "...", "text": "..." }`: for each lower-cased term
 * (a run of Unicode letters and digits), the ids of the documents containing it, sorted and without
 * duplicates. Output records: `{ key: term, value: [docId, ...] }`.
 */
import { defineJob } from 'fanout';

/** Merges id lists into one sorted list without duplicates. */
const mergeIds = (lists: Iterable<string[]>): string[] => [...new Set([...lists].flat())].sort();

export default defineJob({
  name: 'inverted-index',
  input: { format: 'jsonl' },
  map(doc, emit) {
    const { id, text } = doc as { id: string; text: string };
    if (typeof id !== 'string' || typeof text !== 'string') {
      throw new Error(`expected { id: string, text: string }, got ${JSON.stringify(doc).slice(0, 200)}`);
    }
    // A Set, so a term repeated in one document is emitted once for it.
    for (const term of new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu))) emit(term, [id]);
  },
  combine: (_term: string, lists: string[][]) => mergeIds(lists),
  reduce(term, lists, emit) {
    emit(term, mergeIds(lists));
  },
});
