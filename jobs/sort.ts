/**
 * Sort: the Sort Benchmark's records (gensort's ASCII shape, see bench/sort-gen.ts), 100 bytes each
 * with the newline: a 10-byte key of printable ASCII, then a 90-byte payload. Output records:
 * `{ key, value: payload }` with the payload as read (without its newline), so `key + value` is the
 * record. The part files are sorted by key within and across them (every key of part N below every
 * key of part N+1), by a range partitioner built from a sample of the input; records of one key keep
 * their input order.
 *
 * The built-in `emitEach` emits every value of a key under it; with sorted keys and no combiner the
 * engine writes the part files from the shuffle's bytes, never decoding a payload. Reducers walk their
 * records in key order, missing the cache on most: partitions of a few MiB each run faster than the
 * default 8 (`--partitions 64` on 256 MiB: bench/README.md, "Sort").
 */
import { defineJob, emitEach, rangePartitioner } from 'fanout';

const KEY_BYTES = 10;

export default defineJob({
  name: 'sort',
  input: { format: 'text' },
  map(line, emit) {
    emit(line.slice(0, KEY_BYTES), line.slice(KEY_BYTES));
  },
  reduce: emitEach,
  ...rangePartitioner({ sample: 10_000 }),
});
