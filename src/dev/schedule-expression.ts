import { Cron } from 'croner';
import { UsageError } from '../errors.js';

/**
 * A parsed EventBridge Scheduler schedule expression: `cron(...)`, `rate(...)` or `at(...)`.
 * Cron and one-time expressions keep the IANA timezone they are evaluated in.
 */
export type ScheduleExpression =
  | {
      kind: 'cron';
      /** The expression as written, for messages. */
      expression: string;
      /** The first five AWS fields as a croner pattern, day-of-week renumbered to croner's 0 = Sunday. */
      pattern: string;
      /** The years allowed, ascending; absent when the year field is `*`. */
      years?: readonly number[];
      timezone: string;
    }
  | { kind: 'rate'; everyMs: number }
  | {
      kind: 'at';
      /** The one instant the schedule fires, read in `timezone`. */
      at: Date;
      timezone: string;
    };

const MINUTE_MS = 60_000;
const UNIT_MS: Readonly<Record<string, number>> = {
  minute: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  day: 1440 * MINUTE_MS,
};

/** AWS accepts years 1970-2199 in the sixth cron field. */
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

/** The characters AWS allows in each cron field; names (JAN, MON) and L, W are letters. */
const FIELDS: readonly { name: string; chars: RegExp }[] = [
  { name: 'minutes', chars: /^[0-9,\-*/]+$/ },
  { name: 'hours', chars: /^[0-9,\-*/]+$/ },
  { name: 'day-of-month', chars: /^[0-9,\-*/?LW]+$/i },
  { name: 'month', chars: /^[0-9A-Z,\-*/]+$/i },
  { name: 'day-of-week', chars: /^[0-9A-Z,\-*/?#]+$/i },
  { name: 'year', chars: /^[0-9,\-*/]+$/ },
];

/**
 * Parses an EventBridge Scheduler expression: `cron(min hour day-of-month month day-of-week year)` with
 * AWS's numbering (day-of-week 1-7, 1 = Sunday) and its rule that exactly one day field is `?`;
 * `rate(N unit)` in minutes, hours or days (singular only for 1); or `at(yyyy-mm-ddThh:mm:ss)`.
 * `timezone` is an IANA name, where cron and `at` expressions are read. @default 'UTC'
 * @throws {UsageError} with one line naming the expression and what is wrong with it.
 */
export function parseScheduleExpression(text: string, timezone = 'UTC'): ScheduleExpression {
  const fail = (why: string) =>
    new UsageError(`schedule expression ${JSON.stringify(text)} is invalid: ${why}`);
  if (!isTimezone(timezone)) throw fail(`unknown timezone ${JSON.stringify(timezone)} (use an IANA name)`);
  const call = /^(cron|rate|at)\((.*)\)$/s.exec(text.trim());
  if (call === null) throw fail('expected cron(...), rate(...) or at(...)');
  const [, kind = '', body = ''] = call;
  if (kind === 'rate') return { kind, everyMs: parseRate(body.trim(), fail) };
  if (kind === 'at') return { kind, at: parseAt(body.trim(), timezone, fail), timezone };
  const { pattern, years } = parseCron(body, fail);
  try {
    // Croner checks the ranges and the modifiers (L, W, #) and where each may appear.
    new Cron(pattern, CRON_OPTIONS(timezone));
  } catch (err) {
    throw fail(err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err));
  }
  return years === undefined
    ? { kind: 'cron', expression: text, pattern, timezone }
    : { kind: 'cron', expression: text, pattern, years, timezone };
}

/**
 * The first fire time strictly after `after`; `start` is when a rate schedule began (its creation
 * time), and it fires at `start` + N, + 2N... but not at `start` itself. undefined when there is none:
 * an `at` in the past, or no allowed year left.
 */
export function nextFireTime(e: ScheduleExpression, after: Date, start: Date): Date | undefined {
  if (e.kind === 'at') return e.at.getTime() > after.getTime() ? e.at : undefined;
  if (e.kind === 'rate') {
    const periods = Math.floor((after.getTime() - start.getTime()) / e.everyMs) + 1;
    return new Date(start.getTime() + Math.max(1, periods) * e.everyMs);
  }
  const cron = new Cron(e.pattern, CRON_OPTIONS(e.timezone));
  let from = after;
  // Each pass either returns or moves `from` on to a later allowed year, so this ends; the bound
  // only guards against a croner surprise.
  for (let pass = 0; pass < 1000; pass++) {
    const run = cron.nextRun(from);
    if (run === null) return undefined;
    if (e.years === undefined) return run;
    const year = yearIn(run, e.timezone);
    if (e.years.includes(year)) return run;
    const next = e.years.find((y) => y > year);
    if (next === undefined) return undefined;
    // nextRun looks from the next whole second on, so this starts the search at local midnight.
    from = new Date(Math.max(run.getTime(), zonedToUtc(next, 1, 1, 0, 0, 0, e.timezone) - 1000));
  }
  return undefined;
}

/** Croner options shared by validation and evaluation; AWS allows steps such as `0/15`. */
const CRON_OPTIONS = (timezone: string) => ({ timezone, mode: '5-part' as const, sloppyRanges: true });

/** Checks the six AWS fields and turns them into a croner pattern and a set of years. */
function parseCron(
  body: string,
  fail: (why: string) => UsageError,
): { pattern: string; years: readonly number[] | undefined } {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw fail(
      `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
    );
  }
  fields.forEach((f, i) => {
    const { name, chars } = FIELDS[i] as (typeof FIELDS)[number];
    if (!chars.test(f)) throw fail(`bad characters in the ${name} field ${JSON.stringify(f)}`);
    if (f.includes('?') && f !== '?') throw fail(`? must stand alone in the ${name} field`);
  });
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw fail('exactly one of day-of-month and day-of-week must be ?');
  }
  const croDow =
    dow === '?'
      ? '*'
      : dow
          .split(',')
          .map((item) => renumberWeekday(item, fail))
          .join(',');
  return {
    pattern: [minutes, hours, dom === '?' ? '*' : dom, month, croDow].join(' '),
    years: parseYears(year, fail),
  };
}

/**
 * One item of AWS's day-of-week list, renumbered for croner (AWS 1-7 with 1 = Sunday, croner 0-6).
 * Only the days move: the `n` of `6#3` and the step of `1/2` stay. A bare `L`, the last day of the
 * week, is Saturday.
 */
function renumberWeekday(item: string, fail: (why: string) => UsageError): string {
  if (item.toUpperCase() === 'L') return '6';
  const hash = item.indexOf('#');
  const slash = item.indexOf('/');
  const cut = hash >= 0 ? hash : slash >= 0 ? slash : item.length;
  const days = item.slice(0, cut).replace(/\d+/g, (n) => {
    const day = Number(n);
    if (day < 1 || day > 7) throw fail(`day-of-week ${n} is out of range 1-7 (1 = SUN)`);
    return String(day - 1);
  });
  return days + item.slice(cut);
}

/** The sixth cron field as the sorted years it allows; undefined for `*`. */
function parseYears(field: string, fail: (why: string) => UsageError): readonly number[] | undefined {
  if (field === '*') return undefined;
  const years = new Set<number>();
  for (const item of field.split(',')) {
    const m = /^(\*|\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(item);
    if (m === null) throw fail(`bad year ${JSON.stringify(item)} (use *, 2026, 2026-2030 or a list)`);
    const [, from = '', to, step] = m;
    const first = from === '*' ? MIN_YEAR : Number(from);
    const last = to !== undefined ? Number(to) : from === '*' || step !== undefined ? MAX_YEAR : first;
    const by = step === undefined ? 1 : Number(step);
    if (first < MIN_YEAR || last > MAX_YEAR || first > last || by < 1) {
      throw fail(`bad year ${JSON.stringify(item)} (years run ${MIN_YEAR}-${MAX_YEAR})`);
    }
    for (let y = first; y <= last; y += by) years.add(y);
  }
  return [...years].sort((a, b) => a - b);
}

/** `N unit`, with AWS's rule that the unit is singular exactly when N is 1. */
function parseRate(body: string, fail: (why: string) => UsageError): number {
  const m = /^(\d+)\s+(minute|hour|day)(s?)$/.exec(body);
  if (m === null) throw fail('expected rate(N minutes|hours|days), such as rate(5 minutes) or rate(1 hour)');
  const [, n = '', unit = '', plural] = m;
  const value = Number(n);
  if (value < 1) throw fail('the rate must be a positive whole number');
  if ((value === 1) !== (plural === '')) {
    throw fail(value === 1 ? `write rate(1 ${unit}) for one ${unit}` : `write rate(${value} ${unit}s)`);
  }
  return value * (UNIT_MS[unit] as number);
}

/** `yyyy-mm-ddThh:mm:ss` as an instant, reading the wall-clock time in `timezone`. */
function parseAt(body: string, timezone: string, fail: (why: string) => UsageError): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (m === null) throw fail('expected at(yyyy-mm-ddThh:mm:ss)');
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi
  ) {
    throw fail(`${body} is not a date and time`);
  }
  return new Date(zonedToUtc(y, mo, d, h, mi, s, timezone));
}

/** Whether Intl knows `timezone` as an IANA name. */
function isTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `t` in `timezone`, as if they were UTC (whole seconds). */
function wallClock(t: number, timezone: string): number {
  let f = formats.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timezone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) p[part.type] = Number(part.value);
  return Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute, p.second);
}

/** The calendar year of `d` in `timezone`. */
function yearIn(d: Date, timezone: string): number {
  return new Date(wallClock(d.getTime(), timezone)).getUTCFullYear();
}

/**
 * The instant whose wall-clock time in `timezone` is the one given (month 1-12). A time skipped by a
 * DST change comes out shifted by the change; a repeated one as one of its two occurrences.
 */
function zonedToUtc(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  timezone: string,
): number {
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const guess = local - (wallClock(local, timezone) - local);
  return local - (wallClock(guess, timezone) - guess);
}
