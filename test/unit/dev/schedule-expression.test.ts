/**
 * EventBridge Scheduler expressions: AWS's six-field cron (1 = Sunday, one day field `?`, a year
 * field), rate(...) counted from the schedule's start, and at(...). Every expected date below is
 * worked out by hand from a calendar, never from the code under test.
 */
import { describe, expect, it } from 'vitest';
import {
  nextFireTime,
  parseScheduleExpression,
  type ScheduleExpression,
} from '../../../src/dev/schedule-expression.js';
import { UsageError } from '../../../src/errors.js';

const T = (iso: string) => new Date(iso);
const EPOCH = T('2000-01-01T00:00:00Z');

/** The next `n` fire times after `after`, as ISO strings. */
function fires(e: ScheduleExpression, after: Date, n: number, start = EPOCH): string[] {
  const out: string[] = [];
  let from = after;
  for (let i = 0; i < n; i++) {
    const next = nextFireTime(e, from, start);
    if (next === undefined) break;
    out.push(next.toISOString());
    from = next;
  }
  return out;
}

describe('cron', () => {
  it('cron(0 3 * * ? *) fires daily at 03:00 UTC', () => {
    const e = parseScheduleExpression('cron(0 3 * * ? *)');
    expect(fires(e, T('2026-12-02T12:00:00Z'), 3)).toEqual([
      '2026-12-03T03:00:00.000Z',
      '2026-12-04T03:00:00.000Z',
      '2026-12-05T03:00:00.000Z',
    ]);
  });

  it('fires strictly after `after`, even exactly on a fire time', () => {
    const e = parseScheduleExpression('cron(0 3 * * ? *)');
    expect(nextFireTime(e, T('2026-12-03T03:00:00Z'), EPOCH)?.toISOString()).toBe('2026-12-04T03:00:00.000Z');
    expect(nextFireTime(e, T('2026-12-03T02:59:59.999Z'), EPOCH)?.toISOString()).toBe(
      '2026-12-03T03:00:00.000Z',
    );
  });

  it('keeps 03:00 local in Europe/Paris across the change to summer time on 2026-03-29', () => {
    // Paris is UTC+1 until 01:00 UTC on Sunday 29 March 2026, UTC+2 after it.
    const e = parseScheduleExpression('cron(0 3 * * ? *)', 'Europe/Paris');
    expect(fires(e, T('2026-03-27T12:00:00Z'), 3)).toEqual([
      '2026-03-28T02:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T01:00:00.000Z',
    ]);
  });

  it('cron(0 12 ? * 2-6 *) is Monday to Friday (AWS counts 1 = Sunday)', () => {
    const e = parseScheduleExpression('cron(0 12 ? * 2-6 *)');
    // 2026-06-05 is a Friday: the next are Monday 8th and Tuesday 9th, skipping the weekend.
    expect(fires(e, T('2026-06-05T00:00:00Z'), 3)).toEqual([
      '2026-06-05T12:00:00.000Z',
      '2026-06-08T12:00:00.000Z',
      '2026-06-09T12:00:00.000Z',
    ]);
  });

  it('day names and numbers mean the same days', () => {
    const named = parseScheduleExpression('cron(0 12 ? * MON-FRI *)');
    const numbered = parseScheduleExpression('cron(0 12 ? * 2-6 *)');
    const after = T('2026-06-05T13:00:00Z');
    expect(fires(named, after, 5)).toEqual(fires(numbered, after, 5));
    // AWS 1 is Sunday and 7 Saturday.
    expect(fires(parseScheduleExpression('cron(0 0 ? * 1 *)'), after, 1)).toEqual([
      '2026-06-07T00:00:00.000Z',
    ]);
    expect(fires(parseScheduleExpression('cron(0 0 ? * 7 *)'), after, 1)).toEqual([
      '2026-06-06T00:00:00.000Z',
    ]);
  });

  it('cron(0 9 ? * MON#1 *) is the first Monday of each month', () => {
    const e = parseScheduleExpression('cron(0 9 ? * MON#1 *)');
    // First Mondays: 6 July, 3 August, 7 September 2026.
    expect(fires(e, T('2026-06-02T00:00:00Z'), 3)).toEqual([
      '2026-07-06T09:00:00.000Z',
      '2026-08-03T09:00:00.000Z',
      '2026-09-07T09:00:00.000Z',
    ]);
    // 6#3 is the third Friday (AWS 6 = Friday); the 3 is not renumbered: 19 June, 17 July 2026.
    expect(fires(parseScheduleExpression('cron(0 9 ? * 6#3 *)'), T('2026-06-01T00:00:00Z'), 2)).toEqual([
      '2026-06-19T09:00:00.000Z',
      '2026-07-17T09:00:00.000Z',
    ]);
  });

  it('cron(15 10 L * ? *) is the last day of each month', () => {
    const e = parseScheduleExpression('cron(15 10 L * ? *)');
    expect(fires(e, T('2028-01-31T11:00:00Z'), 3)).toEqual([
      '2028-02-29T10:15:00.000Z',
      '2028-03-31T10:15:00.000Z',
      '2028-04-30T10:15:00.000Z',
    ]);
  });

  it('W is the weekday nearest a day of the month, and steps such as 0/15 are allowed', () => {
    // 15 August 2026 is a Saturday, so 15W is Friday the 14th.
    expect(fires(parseScheduleExpression('cron(0 0 15W * ? *)'), T('2026-08-01T00:00:00Z'), 1)).toEqual([
      '2026-08-14T00:00:00.000Z',
    ]);
    expect(fires(parseScheduleExpression('cron(0/15 * * * ? *)'), T('2026-08-01T00:05:00Z'), 3)).toEqual([
      '2026-08-01T00:15:00.000Z',
      '2026-08-01T00:30:00.000Z',
      '2026-08-01T00:45:00.000Z',
    ]);
  });

  it('fires only in the years of the year field, then never again', () => {
    const e = parseScheduleExpression('cron(0 8 1 JAN ? 2027-2028)');
    expect(fires(e, T('2026-06-01T00:00:00Z'), 5)).toEqual([
      '2027-01-01T08:00:00.000Z',
      '2028-01-01T08:00:00.000Z',
    ]);
    expect(nextFireTime(e, T('2028-01-01T08:00:00Z'), EPOCH)).toBeUndefined();
  });

  it('reads the year in the schedule timezone, and skips to a later year in a list', () => {
    // 00:30 on 1 January 2030 in Tokyo (UTC+9) is still 2029 in UTC.
    const e = parseScheduleExpression('cron(30 0 1 1 ? 2027,2030)', 'Asia/Tokyo');
    expect(fires(e, T('2027-06-01T00:00:00Z'), 2)).toEqual(['2029-12-31T15:30:00.000Z']);
    const any = parseScheduleExpression('cron(0 12 ? * 2 2031)');
    // The first Monday of 2031 is 6 January.
    expect(nextFireTime(any, T('2026-06-01T00:00:00Z'), EPOCH)?.toISOString()).toBe(
      '2031-01-06T12:00:00.000Z',
    );
  });
});

describe('rate', () => {
  const start = T('2026-05-01T10:00:00Z');

  it('rate(5 minutes) fires every 5 minutes counted from the start, not at the start', () => {
    const e = parseScheduleExpression('rate(5 minutes)');
    expect(e).toEqual({ kind: 'rate', everyMs: 300_000 });
    expect(fires(e, start, 2, start)).toEqual(['2026-05-01T10:05:00.000Z', '2026-05-01T10:10:00.000Z']);
    expect(nextFireTime(e, T('2026-05-01T10:07:30Z'), start)?.toISOString()).toBe('2026-05-01T10:10:00.000Z');
    expect(nextFireTime(e, T('2026-05-01T10:10:00Z'), start)?.toISOString()).toBe('2026-05-01T10:15:00.000Z');
    expect(nextFireTime(e, T('2026-04-01T00:00:00Z'), start)?.toISOString()).toBe('2026-05-01T10:05:00.000Z');
  });

  it('rate(1 day) fires once a day at the start time of day', () => {
    const e = parseScheduleExpression('rate(1 day)');
    expect(fires(e, T('2026-05-03T12:00:00Z'), 2, start)).toEqual([
      '2026-05-04T10:00:00.000Z',
      '2026-05-05T10:00:00.000Z',
    ]);
    expect(parseScheduleExpression('rate(1 hour)')).toEqual({ kind: 'rate', everyMs: 3_600_000 });
    expect(parseScheduleExpression('rate(3 days)')).toEqual({ kind: 'rate', everyMs: 259_200_000 });
  });

  it.each([
    ['rate(1 hours)', /rate\(1 hour\)/],
    ['rate(5 minute)', /rate\(5 minutes\)/],
    ['rate(0 minutes)', /positive/],
    ['rate(-5 minutes)', /rate\(N minutes/],
    ['rate(5 weeks)', /rate\(N minutes/],
  ])('rejects %s', (text, why) => {
    expect(() => parseScheduleExpression(text)).toThrow(UsageError);
    expect(() => parseScheduleExpression(text)).toThrow(why);
  });
});

describe('at', () => {
  it('fires once, at the wall-clock time in its timezone, and never after it', () => {
    const utc = parseScheduleExpression('at(2026-12-03T03:00:00)');
    expect(nextFireTime(utc, T('2026-01-01T00:00:00Z'), EPOCH)?.toISOString()).toBe(
      '2026-12-03T03:00:00.000Z',
    );
    expect(nextFireTime(utc, T('2026-12-03T03:00:00Z'), EPOCH)).toBeUndefined();
    expect(nextFireTime(utc, T('2027-01-01T00:00:00Z'), EPOCH)).toBeUndefined();
    // New York is UTC-5 in December and UTC-4 in July.
    const winter = parseScheduleExpression('at(2026-12-03T03:00:00)', 'America/New_York');
    expect(nextFireTime(winter, T('2026-01-01T00:00:00Z'), EPOCH)?.toISOString()).toBe(
      '2026-12-03T08:00:00.000Z',
    );
    const summer = parseScheduleExpression('at(2026-07-04T09:30:00)', 'America/New_York');
    expect(nextFireTime(summer, T('2026-01-01T00:00:00Z'), EPOCH)?.toISOString()).toBe(
      '2026-07-04T13:30:00.000Z',
    );
  });
});

describe('bad input', () => {
  it.each([
    ['cron(0 3 * * * *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 3 ? * ? *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 3 * * ?)', /6 fields.*got 5/],
    ['cron(0 0 3 * * ? *)', /6 fields.*got 7/],
    ['cron(60 3 * * ? *)', /minute/],
    ['cron(0 3 ? * 8 *)', /day-of-week 8 is out of range 1-7/],
    ['cron(0 3 ? * 0 *)', /day-of-week 0 is out of range 1-7/],
    ['cron(? 3 * * ? *)', /bad characters in the minutes field/],
    ['cron(0 3 * * ? 1969)', /bad year/],
    ['cron(0 3 * * ? 2030-2027)', /bad year/],
    ['every day', /expected cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/],
    ['at(2026-02-30T00:00:00)', /not a date and time/],
    ['at(2026-12-03 03:00)', /expected at\(yyyy-mm-ddThh:mm:ss\)/],
  ])('rejects %s', (text, why) => {
    expect(() => parseScheduleExpression(text)).toThrow(UsageError);
    expect(() => parseScheduleExpression(text)).toThrow(why);
  });

  it('names the expression in its one-line message', () => {
    expect(() => parseScheduleExpression('cron(0 3 * * * *)')).toThrow(
      'schedule expression "cron(0 3 * * * *)" is invalid: exactly one of day-of-month and day-of-week must be ?',
    );
    expect(() => parseScheduleExpression('every day')).toThrow(/^[^\n]+$/);
  });

  it('rejects an unknown timezone', () => {
    expect(() => parseScheduleExpression('cron(0 3 * * ? *)', 'Mars/Olympus_Mons')).toThrow(UsageError);
    expect(() => parseScheduleExpression('cron(0 3 * * ? *)', 'Mars/Olympus_Mons')).toThrow(
      /unknown timezone "Mars\/Olympus_Mons"/,
    );
  });
});
