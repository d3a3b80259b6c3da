/**
 * Seeded factories of realistic records for the example jobs: Zipf-distributed words, access log
 * entries, orders and documents. Each factory returns the structured record next to its text form,
 * so an oracle can compute expected results from the structure without parsing the text the way
 * the job under test does.
 */

/** A small deterministic PRNG (mulberry32): the same seed always yields the same data. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** An index in [0, n) drawn from a Zipf distribution with exponent `s`: index 0 is the most likely. */
  zipf(n: number, s = 1.07): number {
    const cdf = zipfCdf(n, s);
    const u = this.next();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const cdfCache = new Map<string, Float64Array>();

function zipfCdf(n: number, s: number): Float64Array {
  const id = `${n}:${s}`;
  let cdf = cdfCache.get(id);
  if (cdf === undefined) {
    cdf = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += 1 / (i + 1) ** s;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += 1 / (i + 1) ** s / total;
      cdf[i] = acc;
    }
    cdf[n - 1] = 1;
    cdfCache.set(id, cdf);
  }
  return cdf;
}

// ---------------------------------------------------------------------------------------------
// Words

const COMMON = (
  'the of and to a in is it you that he was for on are with as I his they be at one have this from ' +
  'or had by hot word but what some we can out other were all there when up use your how said an each ' +
  'she which do their time if will way about many then them write would like so these her long make ' +
  'thing see him two has look more day could go come did number sound no most people my over know ' +
  'water than call first who may down side been now find The It We'
).split(' ');

/** Multi-byte UTF-8 words: 2-, 3- and 4-byte sequences, precomposed (NFC). */
export const MULTIBYTE_WORDS: readonly string[] = [
  'café',
  'naïve',
  'über',
  'señor',
  'crème',
  'façade',
  'jalapeño',
  'smörgåsbord',
  'straße',
  'Ελλάδα',
  'москва',
  '日本語',
  '東京',
  '😀',
  '🚀',
  '👍🏽',
];

/** Tokens carrying punctuation: a word count keeps them exactly as they appear. */
const PUNCTUATED = [
  'Hello,',
  'world!',
  '(see',
  'below)',
  'end.',
  "don't",
  'C++',
  '3.14',
  'a/b',
  '--',
  '"quoted"',
];

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tor',
  'vi',
  'sa',
  'qu',
  'el',
  'dan',
  'po',
  'ri',
  'ne',
  'shi',
  'zu',
  'ba',
];

function pseudoWords(count: number, seed: number): string[] {
  const rng = new Rng(seed);
  const words = new Set<string>();
  while (words.size < count) {
    let w = '';
    for (let i = rng.int(2, 4); i > 0; i--) w += rng.pick(SYLLABLES);
    words.add(w);
  }
  return [...words];
}

/** The word-count vocabulary in Zipf rank order: common words first, a long synthetic tail last. */
export const VOCABULARY: readonly string[] = [
  ...COMMON.slice(0, 40),
  ...MULTIBYTE_WORDS,
  ...COMMON.slice(40),
  ...PUNCTUATED,
  ...pseudoWords(1500, 0xc0ffee),
];

/** A Zipf-distributed word from {@link VOCABULARY}. */
export function word(rng: Rng): string {
  return VOCABULARY[rng.zipf(VOCABULARY.length)] as string;
}

/** One line of text and the tokens it holds, joined by varied runs of spaces and tabs. */
export interface WordLine {
  text: string;
  tokens: string[];
}

const GAPS = [' ', ' ', ' ', ' ', '  ', '\t', ' \t '];

/** A line of `minWords` to `maxWords` words; some are empty or whitespace only, some padded at either end. */
export function wordLine(rng: Rng, maxWords = 14, minWords = 0): WordLine {
  const tokens: string[] = [];
  for (let n = rng.int(minWords, maxWords); n > 0; n--) tokens.push(word(rng));
  let text = tokens.map((t, i) => (i === 0 ? t : rng.pick(GAPS) + t)).join('');
  if (rng.chance(0.05)) text = `  ${text}`;
  if (rng.chance(0.05)) text = `${text}\t`;
  return { text, tokens };
}

/** A line of at least `minBytes` UTF-8 bytes: longer than a split, so it must be read past the split's end. */
export function longWordLine(rng: Rng, minBytes: number): WordLine {
  const tokens: string[] = [];
  let bytes = 0;
  while (bytes < minBytes) {
    const w = word(rng);
    tokens.push(w);
    bytes += Buffer.byteLength(w) + 1;
  }
  return { text: tokens.join(' '), tokens };
}

// ---------------------------------------------------------------------------------------------
// Access logs (Apache/nginx combined log format)

/** A request line as logged; `null` when the server logged `"-"` (a connection closed before a request). */
export interface HttpRequest {
  method: string;
  path: string;
  /** Query string including its leading `?`, or empty. */
  query: string;
  protocol: string;
}

export interface AccessLogEntry {
  ip: string;
  user: string;
  time: Date;
  request: HttpRequest | null;
  status: number;
  bytes: number;
  referer: string;
  userAgent: string;
}

const PAGES = [
  '/',
  '/index.html',
  '/pricing',
  '/login',
  '/cart',
  '/checkout',
  '/search',
  '/favicon.ico',
  '/robots.txt',
  '/static/app.3f9c2b.js',
  '/static/styles.8d1e0a.css',
  '/about',
  '/caf%C3%A9/men%C3%BC',
  '/docs/getting-started',
];

/** Site paths in Zipf rank order. */
export const URL_PATHS: readonly string[] = [
  ...PAGES,
  ...Array.from({ length: 120 }, (_, i) => `/products/${1000 + i * 7}`),
  ...pseudoWords(80, 0xb10c).map((slug) => `/blog/${slug}`),
  ...Array.from({ length: 60 }, (_, i) => `/api/v1/items/${i + 1}`),
];

const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'HEAD', 'PUT', 'OPTIONS'];
const STATUSES = [
  200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 304, 304, 404, 301, 206, 204, 500, 403,
];
const REFERERS = [
  '-',
  '-',
  'https://www.google.com/',
  'https://duckduckgo.com/',
  'https://shop.example.com/',
];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
];

/** A request at `time`; about 1% are `"-"` lines, and `queryBytes` forces a query string of that length. */
export function accessLogEntry(rng: Rng, time: Date, options: { queryBytes?: number } = {}): AccessLogEntry {
  const ip = `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  const base = { ip, user: rng.chance(0.02) ? 'frank' : '-', time, referer: '-', userAgent: '-' };
  if (options.queryBytes === undefined && rng.chance(0.01)) {
    return { ...base, request: null, status: rng.pick([400, 408]), bytes: 0 };
  }
  const path = URL_PATHS[rng.zipf(URL_PATHS.length, 1.2)] as string;
  let query = rng.chance(0.25) ? `?ref=${rng.pick(['home', 'email', 'ads'])}&page=${rng.int(1, 9)}` : '';
  if (options.queryBytes !== undefined)
    query = `?utm_content=${'x'.repeat(Math.max(0, options.queryBytes - 13))}`;
  const request = {
    method: rng.pick(METHODS),
    path,
    query,
    protocol: rng.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/2.0']),
  };
  const status = rng.pick(STATUSES);
  const bytes = status === 204 || status === 304 ? 0 : rng.int(120, 250_000);
  return { ...base, request, status, bytes, referer: rng.pick(REFERERS), userAgent: rng.pick(USER_AGENTS) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The entry as one combined-log-format line, without a line terminator. */
export function formatAccessLog(e: AccessLogEntry): string {
  const t = e.time;
  const p2 = (n: number) => String(n).padStart(2, '0');
  const when = `${p2(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())} +0000`;
  const r = e.request;
  const request = r === null ? '-' : `${r.method} ${r.path}${r.query} ${r.protocol}`;
  return `${e.ip} - ${e.user} [${when}] "${request}" ${e.status} ${e.bytes} "${e.referer}" "${e.userAgent}"`;
}

// ---------------------------------------------------------------------------------------------
// Orders (CSV)

export interface Order {
  orderId: string;
  country: string;
  customerId: string;
  product: string;
  quantity: number;
  unitPriceCents: number;
  orderedAt: string;
  notes: string;
}

/** Column order of {@link orderCsvRow}. */
export const ORDER_CSV_HEADER = 'order_id,country,customer_id,product,quantity,unit_price,ordered_at,notes';

/** ISO country codes in Zipf rank order. */
export const COUNTRIES: readonly string[] =
  'US DE GB FR JP CA BR IN AU NL SE ES IT MX KR CH NO PL BE AT IE DK FI NZ'.split(' ');

const PRODUCTS: readonly [string, number][] = [
  ['Wireless mouse', 2499],
  ['USB-C cable, 2 m', 1299],
  ['12" pizza stone', 3450],
  ['Crème brûlée torch', 2995],
  ['Notebook (A5)', 450],
  ['Coffee beans 1kg', 1890],
  ['Mechanical keyboard', 11999],
  ['Desk lamp', 3999],
  ['Noise-cancelling headphones', 27900],
  ['Sticker pack', 99],
];

const NOTES = [
  '',
  '',
  '',
  '',
  '',
  'Leave at door, ring twice',
  'Gift wrap "Happy birthday"',
  'Express',
  'Bitte klingeln',
];

/** The `n`th order; `notesBytes` forces a notes field of that length. */
export function order(rng: Rng, n: number, options: { notesBytes?: number } = {}): Order {
  const [product, unitPriceCents] = PRODUCTS[rng.zipf(PRODUCTS.length, 0.8)] as [string, number];
  const day = new Date(Date.UTC(2024, 0, 1) + n * 37_000);
  return {
    orderId: `ord-${String(n).padStart(7, '0')}`,
    country: COUNTRIES[rng.zipf(COUNTRIES.length)] as string,
    customerId: `cust-${rng.int(1, 5000)}`,
    product,
    quantity: rng.chance(0.03) ? rng.int(10, 50) : rng.int(1, 4),
    unitPriceCents,
    orderedAt: day.toISOString(),
    notes:
      options.notesBytes === undefined ? rng.pick(NOTES) : `Note, long: ${'z'.repeat(options.notesBytes)}`,
  };
}

/** A CSV field, quoted only when it holds a delimiter, a quote or a line break (RFC 4180). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The order as one CSV row, without a line terminator; prices as `12.34`. */
export function orderCsvRow(o: Order): string {
  const price = `${Math.floor(o.unitPriceCents / 100)}.${String(o.unitPriceCents % 100).padStart(2, '0')}`;
  return [o.orderId, o.country, o.customerId, o.product, String(o.quantity), price, o.orderedAt, o.notes]
    .map(csvField)
    .join(',');
}

// ---------------------------------------------------------------------------------------------
// Documents (JSONL)

export interface Doc {
  id: string;
  text: string;
  /** The lower-cased terms the text was built from, in order, with repeats. */
  terms: string[];
}

/**
 * Words that are one run of letters or digits and lower-case back to themselves after upper-casing,
 * so a document's terms are exactly what a lower-casing alphanumeric tokenizer finds in its text.
 */
const TERM_VOCABULARY: readonly string[] = VOCABULARY.map((w) => w.toLowerCase()).filter(
  (w, i, all) => /^[\p{L}\p{N}]+$/u.test(w) && w.toUpperCase().toLowerCase() === w && all.indexOf(w) === i,
);

const TERM_GAPS = [' ', ' ', ' ', ', ', '. ', ' - ', ' (', ') ', '; ', ' 🚀 ', '! '];

/** Document `id` with `words` Zipf-distributed terms, capitalised and punctuated like prose. */
export function doc(rng: Rng, id: string, words = rng.int(0, 60)): Doc {
  const terms: string[] = [];
  let text = '';
  for (let i = 0; i < words; i++) {
    const term = TERM_VOCABULARY[rng.zipf(TERM_VOCABULARY.length)] as string;
    terms.push(term);
    const shown = rng.chance(0.05)
      ? term.toUpperCase()
      : i === 0 || rng.chance(0.1)
        ? capitalise(term)
        : term;
    text += (i === 0 ? '' : rng.pick(TERM_GAPS)) + shown;
  }
  if (words > 0) text += rng.pick(['.', '!', '?', '']);
  return { id, text, terms };
}

function capitalise(w: string): string {
  const first = String.fromCodePoint(w.codePointAt(0) as number);
  return first.toUpperCase() + w.slice(first.length);
}

/** The document as one JSON line, without a line terminator. */
export function docJsonLine(d: Doc): string {
  return JSON.stringify({ id: d.id, text: d.text });
}

// ---------------------------------------------------------------------------------------------
// App log events (JSONL, for clean-logs)

export interface LogEvent {
  id: string;
  /** Epoch milliseconds. */
  at: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  /** Lower case; null when the app logged no user. */
  user: string | null;
  path: string;
  latencyMs: number;
}

const LOG_USERS = 'ada bob chen dana eve femi gus hana ivo jun kai lea'.split(' ');
const LOG_LEVELS = ['debug', 'info', 'info', 'info', 'warn', 'error'] as const;

export function logEvent(rng: Rng, n: number, at: number): LogEvent {
  return {
    id: `evt-${String(n).padStart(7, '0')}`,
    at,
    level: rng.pick(LOG_LEVELS),
    user: rng.chance(0.1) ? null : rng.pick(LOG_USERS),
    path: rng.pick(URL_PATHS),
    latencyMs: rng.int(1, 2500),
  };
}

/**
 * An event's line as a careless app writes it: the level in any case, the time as an ISO string or
 * as epoch milliseconds, the user padded with spaces, in capitals, or left out, the latency as a
 * number or as a string of digits.
 */
export function logEventJsonLine(rng: Rng, e: LogEvent): string {
  const level = rng.pick([e.level, e.level.toUpperCase(), e.level[0]?.toUpperCase() + e.level.slice(1)]);
  const line: Record<string, unknown> = {
    id: e.id,
    ts: rng.chance(0.5) ? new Date(e.at).toISOString() : e.at,
    level,
  };
  if (e.user !== null) line.user = rng.pick([e.user, ` ${e.user} `, e.user.toUpperCase()]);
  else if (rng.chance(0.5)) line.user = rng.pick(['', '  ']);
  line.path = e.path;
  line.latency_ms = rng.chance(0.3) ? String(e.latencyMs) : e.latencyMs;
  return JSON.stringify(line);
}

// ---------------------------------------------------------------------------------------------
// Customers and their orders (CSV, for join-orders)

export interface Customer {
  customerId: string;
  name: string;
  country: string;
}

export const CUSTOMER_CSV_HEADER = 'customer_id,name,country';
export const SALE_CSV_HEADER = 'order_id,customer_id,amount';

export interface Sale {
  orderId: string;
  customerId: string;
  amountCents: number;
}

const FIRST_NAMES = 'Ana Ben Chloé Dev Elif Farid Gina Hugo Iris José Kim Luca'.split(' ');
const LAST_NAMES = 'Novak Okafor Park Quinn Rossi Sato Tanaka Ueda Vogel Walsh, Jr. Yilmaz Zhou'.split(' ');

export function customer(rng: Rng, n: number): Customer {
  return {
    customerId: `c${String(n).padStart(4, '0')}`,
    name: `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`,
    country: COUNTRIES[rng.zipf(COUNTRIES.length)] as string,
  };
}

export function customerCsvRow(c: Customer): string {
  return [c.customerId, c.name, c.country].map(csvField).join(',');
}

/** A sale by customer `c{1..customers}`, a few by customers past that (not in the customer file). */
export function sale(rng: Rng, n: number, customers: number): Sale {
  return {
    orderId: `o${String(n).padStart(6, '0')}`,
    customerId: `c${String(rng.chance(0.02) ? customers + rng.int(1, 5) : rng.int(1, customers)).padStart(4, '0')}`,
    amountCents: rng.int(100, 50_000),
  };
}

export function saleCsvRow(s: Sale): string {
  return `${s.orderId},${s.customerId},${Math.floor(s.amountCents / 100)}.${String(s.amountCents % 100).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Files

export interface FileLayout {
  /** @default '\n' */
  eol?: '\n' | '\r\n';
  /** Whether the last line ends with `eol`. @default true */
  finalNewline?: boolean;
}

/**
 * Lines joined into file content.
 *
 * @throws {Error} when the last line is empty and there is no final newline: such a file could not
 * be told apart from one without that line, so a test counting lines would be wrong.
 */
export function joinLines(lines: readonly string[], layout: FileLayout = {}): string {
  const eol = layout.eol ?? '\n';
  if (lines.length === 0) return '';
  if (layout.finalNewline === false) {
    if (lines.at(-1) === '') throw new Error('joinLines: an empty last line needs a final newline');
    return lines.join(eol);
  }
  return lines.join(eol) + eol;
}
