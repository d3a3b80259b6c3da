/** Deterministic text with many distinct words: `lines` lines over a vocabulary of `vocab` words. */
export function wordText(lines: number, vocab: number, seed = 1): string {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 1 + Math.floor(next() * 10);
    const words: string[] = [];
    for (let j = 0; j < n; j++) words.push(`w${Math.floor(next() ** 2 * vocab)}`);
    out.push(words.join(i % 5 === 0 ? '  ' : ' '));
  }
  return `${out.join('\n')}\n`;
}

/** The oracle for word count: counts computed directly, keyed as readOutput keys them. */
export function countWords(...texts: string[]): Map<string, unknown> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const w of text.split(/\s+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return new Map([...counts].map(([w, n]) => [JSON.stringify(w), n]));
}
