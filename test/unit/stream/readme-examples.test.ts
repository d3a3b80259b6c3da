import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');

describe('README examples', () => {
  it('shows jobs/etl-jsonl.ts as the stream job it is', () => {
    const job = readFileSync('jobs/etl-jsonl.ts', 'utf8');
    const code = job.slice(job.indexOf("import { defineStream } from 'fanout';"));
    expect(readme).toContain(
      `// jobs/etl-jsonl.ts: each batch of records becomes one JSONL object in the store\n${code}`,
    );
  });

  it('lists every example job in jobs/ in the example-jobs table', () => {
    const listed = [...readme.matchAll(/^\| `(jobs\/[^`]+\.ts)`/gm)].map((m) => m[1]);
    const jobs = readdirSync('jobs')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `jobs/${f}`);
    expect(listed.sort()).toEqual(jobs.sort());
  });
});
