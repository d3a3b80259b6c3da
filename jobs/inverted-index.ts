/**
 * Inverted index over JSONL documents `{ "id": "...", "text": "..." }`: for each lower-cased term
 * (a run of Unicode letters and digits), the ids of the documents containing it, sorted and without
 * duplicates. Output records: `{ key: term, value: [docId, ...] }`.
 */
import { defineJob, type Emit, jsonl } from 'fanout';

interface Doc {
  id: string;
  text: string;
}

/** Merges id lists into one sorted list without duplicates. */
const mergeIds = (lists: Iterable<string[]>): string[] => [...new Set([...lists].flat())].sort();

export default defineJob({
  name: 'inverted-index',
  input: jsonl<Doc>(),
  map(doc, emit: Emit<string, string[]>) {
    // The type names what the job expects; a line is JSON, not checked against it.
    const { id, text } = doc;
    if (typeof id !== 'string' || typeof text !== 'string') {
      throw new Error(`expected { id: string, text: string }, got ${JSON.stringify(doc).slice(0, 200)}`);
    }
    // A Set, so a term repeated in one document is emitted once for it.
    for (const term of new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu))) emit(term, [id]);
  },
  combine: (_term, lists) => mergeIds(lists),
  reduce(term, lists, emit: Emit<string, string[]>) {
    emit(term, mergeIds(lists));
  },
});
