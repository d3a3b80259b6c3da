/**
 * Top URLs: the ten most requested paths in access logs (Apache/nginx combined log format),
 * counting only successful (2xx) GET requests, with the query string dropped. Lines that are not a
 * request (e.g. `"-" 408`) are skipped. Two stages:
 *   1. count requests per path: `{ key: path, value: count }`;
 *   2. keep the ten highest counts, ties broken by path ascending, in one partition.
 * Output records: `{ key: rank, value: { url, count } }` for rank 1..10 (fewer if fewer paths).
 */
import { defineJob, type Emit } from 'fanout';

type UrlCount = { url: string; count: number };

const TOP = 10;
// ip ident user [time] "METHOD /path?query PROTOCOL" status ...
const LINE = /^\S+ \S+ \S+ \[[^\]]*\] "(\S+) ([^\s"?]+)[^"]*" (\d{3}) /;

const sum = (counts: Iterable<number>): number => {
  let total = 0;
  for (const c of counts) total += c;
  return total;
};

const byCountThenUrl = (a: UrlCount, b: UrlCount): number =>
  b.count - a.count || (a.url < b.url ? -1 : a.url > b.url ? 1 : 0);

/** The `TOP` best of several top lists; associative and commutative, so it serves as combine too. */
const topOf = (lists: Iterable<UrlCount[]>): UrlCount[] =>
  [...lists].flat().sort(byCountThenUrl).slice(0, TOP);

export default defineJob({
  name: 'top-urls',
  input: { format: 'text' },
  map(line, emit: Emit<string, number>) {
    const m = LINE.exec(line);
    const path = m?.[2];
    if (path && m[1] === 'GET' && m[3]?.startsWith('2')) emit(path, 1);
  },
  combine: (_url, counts) => sum(counts),
  reduce(url, counts, emit: Emit<string, number>) {
    emit(url, sum(counts));
  },
})
  // The second stage's map gets the first's output records, `{ key: url, value: count }`, typed.
  .stage({
    map({ key, value }, emit: Emit<'top', UrlCount[]>) {
      emit('top', [{ url: key, count: value }]);
    },
    combine: (_top, lists) => topOf(lists),
    reduce(_top, lists, emit: Emit<number, UrlCount>) {
      for (const [i, entry] of topOf(lists).entries()) emit(i + 1, entry);
    },
    partitions: 1,
  });
