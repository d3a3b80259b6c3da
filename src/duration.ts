import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * Parses a duration: a number with a unit (`500ms`, `90s`, `15m`, `1.5h`) or plain seconds (`900`).
 * @throws {UsageError} naming the flag and the value received.
 */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNIT_MS[(m?.[2] || 's').toLowerCase()];
  const ms = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new UsageError(
      `invalid duration ${JSON.stringify(text)} for ${flag}: use a number with a unit, e.g. 90s, 15m, 500ms`,
    );
  }
  return ms;
}

/** Formats a duration for people: `850 ms`, `4.2 s`, `95 s`, `14 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 600_000) return `${Math.round(ms / 1000)} s`;
  return `${Number((ms / 60_000).toFixed(1))} min`;
}
