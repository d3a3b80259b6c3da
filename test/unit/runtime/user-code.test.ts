import { describe, expect, it } from 'vitest';
import { NotJsonError, UserCodeError } from '../../../src/errors.js';
import { userCodeError } from '../../../src/task/user-code.js';

describe('userCodeError', () => {
  it.each([
    ['a plain object', { code: 42 }, 'map threw a non-Error value: {"code":42}'],
    ['a string', 'boom', 'map threw a non-Error value: "boom"'],
    ['undefined', undefined, 'map threw a non-Error value: undefined'],
    ['a symbol', Symbol('s'), 'map threw a non-Error value: Symbol(s)'],
  ])('shows %s thrown as itself, still retryable', (_name, thrown, message) => {
    const err = userCodeError('map', thrown);
    expect(err).toBeInstanceOf(UserCodeError);
    expect(err.message).toBe(message);
    expect(err.retryable).toBe(true);
  });

  it('shows a circular thrown object with util.inspect, on one line, cut short', () => {
    const o: Record<string, unknown> = { code: 7, text: 'x'.repeat(500) };
    o.self = o;
    const err = userCodeError('reduce', o);
    expect(err.message).toMatch(/^reduce threw a non-Error value: <ref \*1> \{ code: 7, text: 'xxx/);
    expect(err.message).not.toContain('\n');
    expect(err.message.length).toBeLessThan(300);
  });

  it('keeps an Error thrown as its message, retryable', () => {
    const err = userCodeError('map', new Error('disk on fire'));
    expect(err.message).toBe('map threw: disk on fire');
    expect(err.retryable).toBe(true);
  });

  it('names the code that emitted a value found not to be JSON, not retryable', () => {
    const found = new NotJsonError('emitted a value that cannot be written as JSON (circular structure)');
    const err = userCodeError('map', found);
    expect(err.message).toBe('map emitted a value that cannot be written as JSON (circular structure)');
    expect(err.retryable).toBe(false);
  });
});
