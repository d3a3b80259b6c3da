import { describe, expect, it } from 'vitest';
import { checkTriggerName, templated } from '../../../src/driver/triggered-run.js';

describe('templated locations', () => {
  const at = new Date('2026-12-03T03:04:05Z');

  it('writes {date}, {time} and {datetime} from the due time, in UTC by default', () => {
    expect(templated('s3://b/wc/{date}/', at)).toBe('s3://b/wc/2026-12-03/');
    expect(templated('s3://b/{date}/{time}/', at)).toBe('s3://b/2026-12-03/03-04-05/');
    expect(templated('s3://b/run-{datetime}', at)).toBe('s3://b/run-2026-12-03T03-04-05');
    expect(templated('s3://b/plain/', at)).toBe('s3://b/plain/');
    expect(templated('s3://b/{unknown}/', at)).toBe('s3://b/{unknown}/');
  });

  it("writes them in the schedule's timezone: the day may differ from UTC's", () => {
    expect(templated('{date} {time}', at, 'America/Los_Angeles')).toBe('2026-12-02 19-04-05');
    expect(templated('{date} {time}', new Date('2026-07-01T22:30:00Z'), 'Europe/Paris')).toBe(
      '2026-07-02 00-30-00',
    );
  });
});

describe('trigger names', () => {
  it('takes what Scheduler and job ids allow, and refuses the rest in one line', () => {
    expect(checkTriggerName('nightly-wc.v2_a')).toBe('nightly-wc.v2_a');
    expect(() => checkTriggerName('-x')).toThrow(/--name must be 1 to 64 letters/);
    expect(() => checkTriggerName('a b')).toThrow(/got "a b"/);
    expect(() => checkTriggerName('x'.repeat(65))).toThrow(/--name/);
  });
});
