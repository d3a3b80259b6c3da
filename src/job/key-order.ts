/** The order of keys, part of the job contract: what `sortKeys` and range partitions follow. */
const typeRank = (k: unknown): number =>
  k === null ? 0 : typeof k === 'boolean' ? 1 : typeof k === 'number' ? 2 : typeof k === 'string' ? 3 : 4;

/**
 * The one total order on keys: of sorted spill runs, of a stage's keys with `sortKeys`, and of
 * `rangePartitioner`'s ranges. Null, booleans, numbers, strings (by UTF-16 code units, as `<` compares
 * them: byte order for ASCII), then objects and arrays by their JSON text. Two keys compare equal
 * exactly when they group together (as a Map groups them: -0 with 0, NaN with NaN), so a merge of runs
 * never splits or joins a key.
 */
export function compareKeys(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return Number(a) - Number(b);
    case 2:
      return compareNumbers(a as number, b as number);
    case 3:
      return order(a as string, b as string);
    default:
      return order(JSON.stringify(a), JSON.stringify(b));
  }
}

/**
 * Numbers in ascending order with NaN after every other number. `emit` refuses NaN keys, but a merge
 * must stay a total order whatever reaches it: with NaN equal to every number, sorted runs merge
 * into split and joined keys.
 */
function compareNumbers(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0; // -0 and 0 too
  return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
}

function order<T extends string | number>(x: T, y: T): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
