/**
 * Word count written out in JavaScript: the same output as jobs/wordcount.ts, which uses the built-in
 * functions. Each whitespace-separated token as written (no case folding, punctuation kept) with its
 * count. Output records: `{ key: token, value: count }`.
 */
import { defineJob, type Emit } from 'fanout';

const sum = (counts: Iterable<number>): number => {
  let total = 0;
  for (const c of counts) total += c;
  return total;
};

export default defineJob({
  name: 'wordcount-js',
  input: { format: 'text' },
  map(line, emit: Emit<string, number>) {
    for (const word of line.split(/\s+/)) if (word) emit(word, 1);
  },
  combine: (_word, counts) => sum(counts),
  reduce(word, counts, emit: Emit<string, number>) {
    emit(word, sum(counts));
  },
});
