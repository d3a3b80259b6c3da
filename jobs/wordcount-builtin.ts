/**
 * Word count with built-in functions: the same output as jobs/wordcount.ts (each whitespace-separated
 * token as written, with its count), but the engine recognises `countTokens` with `sum` and counts
 * over the input's bytes instead of calling a map per line.
 */
import { countTokens, defineJob, emitSum, sum } from 'fanout';

export default defineJob({
  name: 'wordcount-builtin',
  input: { format: 'text' },
  map: countTokens,
  combine: sum,
  reduce: emitSum,
});
