import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgressView } from '../../../src/cli/progress-view.js';

/** What the view writes to stderr while `fn` runs. */
function captured(fn: () => void): string {
  let text = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return text;
}

describe('the progress view', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names an attempt running far longer than its peers, with the median and the timeout', () => {
    const view = createProgressView('plain');
    const text = captured(() =>
      view.onEvent({
        type: 'task-slow',
        stage: 0,
        phase: 'map',
        taskId: 's0-m00003',
        attempt: 1,
        runningMs: 42_000,
        medianMs: 3100,
        timeoutMs: 840_000,
      }),
    );
    expect(text).toBe('slow: s0-m00003 attempt 1 running 42 s, median 3.1 s; retried after 14 min\n');
  });

  it('prints warnings in every mode but none', () => {
    const warning = { type: 'warning', message: 'too many threads' } as const;
    for (const mode of ['plain', 'warnings'] as const) {
      expect(captured(() => createProgressView(mode).onEvent(warning))).toBe(
        'mr: warning: too many threads\n',
      );
    }
    expect(captured(() => createProgressView('none').onEvent(warning))).toBe('');
    expect(
      captured(() =>
        createProgressView('warnings').onEvent({ type: 'phase-done', stage: 0, phase: 'map', ms: 5 }),
      ),
    ).toBe('');
  });
});
