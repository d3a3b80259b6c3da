/**
 * Word count: how often each whitespace-separated token occurs, exactly as written (no case folding,
 * punctuation kept). Output records: `{ key: token, value: count }`.
 *
 * Built from the built-in functions: `countTokens` emits `(token, 1)` for each token
 * `line.split(/\s+/)` gives, `sum` adds, `emitSum` writes each token with its total. The engine
 * recognises `countTokens` with `sum` and counts over the input's bytes, with no call per line or
 * token. jobs/wordcount-js.ts is the same job written out in JavaScript, with the same output.
 */
import { countTokens, defineJob, emitSum, sum } from 'fanout';

export default defineJob({
  name: 'wordcount',
  input: { format: 'text' },
  map: countTokens,
  combine: sum,
  reduce: emitSum,
});
