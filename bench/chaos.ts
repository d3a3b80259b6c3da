/**
 * `npm run chaos [-- --seeds N]`: every example job over its sample data, first without faults (the
 * reference), then under FANOUT_FAULTS mixing every batch fault at 3-5% for N seeds (default 3), and a
 * table of what happened: runs, faults injected by kind, retries, and records lost, counted twice or
 * changed against the reference. Not a test: `npm test` runs every example job under the same
 * faults for two seeds against its oracle, on the local backend (test/integration/chaos.test.ts) and
 * on the aws backend against the emulators (chaos-aws-*.test.ts). Exits 1 if any record was lost,
 * doubled or changed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHAOS_FAULTS, EXAMPLE_JOBS, runExampleForChaos, setFaults } from '../test/helpers/chaos.js';

/** Every output record of a folder: each key's JSON text with the values it came with. */
function readParts(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of readdirSync(dir).filter((n) => /^part-\d{5}\.jsonl$/.test(n))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line === '') continue;
      const { key, value } = JSON.parse(line) as { key: unknown; value: unknown };
      const id = JSON.stringify(key);
      out.set(id, [...(out.get(id) ?? []), JSON.stringify(value)]);
    }
  }
  return out;
}

/** Records of `got` missing from `want`'s keys, appearing more than once, or with another value. */
function compare(want: Map<string, string[]>, got: Map<string, string[]>) {
  let lost = 0;
  let doubled = 0;
  let changed = 0;
  for (const [key, [value]] of want) {
    const seen = got.get(key);
    if (!seen) lost++;
    else if (seen.length > 1) doubled += seen.length - 1;
    else if (seen[0] !== value) changed++;
  }
  for (const key of got.keys()) if (!want.has(key)) changed++;
  return { lost, doubled, changed };
}

async function run(job: string, dir: string) {
  const { result, output } = await runExampleForChaos(job, dir);
  return { result, records: readParts(output) };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: '3' } } });
  const seeds = Number(values.seeds);
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new Error(`--seeds must be a positive integer, got ${values.seeds}`);
  const root = mkdtempSync(join(tmpdir(), 'fanout-chaos-'));
  const rows: string[][] = [];
  const totals = new Map<string, number>();
  let bad = 0;
  try {
    for (const job of EXAMPLE_JOBS) {
      setFaults(undefined);
      const reference = await run(job, join(root, job, 'clean'));
      const faults = new Map<string, number>();
      const sums = { retries: 0, lost: 0, doubled: 0, changed: 0 };
      for (let i = 1; i <= seeds; i++) {
        setFaults(CHAOS_FAULTS, `${job}-${i}`);
        const chaotic = await run(job, join(root, job, `seed-${i}`));
        for (const [k, n] of Object.entries(chaotic.result.counters.faults ?? {})) {
          faults.set(k, (faults.get(k) ?? 0) + n);
          totals.set(k, (totals.get(k) ?? 0) + n);
        }
        const d = compare(reference.records, chaotic.records);
        sums.retries += chaotic.result.counters.retries;
        sums.lost += d.lost;
        sums.doubled += d.doubled;
        sums.changed += d.changed;
        process.stderr.write(
          `${job} seed ${i}: ${[...faults.values()].reduce((a, b) => a + b, 0)} faults so far\n`,
        );
      }
      bad += sums.lost + sums.doubled + sums.changed;
      const injected = [...faults.values()].reduce((a, b) => a + b, 0);
      rows.push([
        job,
        String(seeds),
        String(injected),
        String(sums.retries),
        String(sums.lost),
        String(sums.doubled),
        String(sums.changed),
      ]);
    }
  } finally {
    setFaults(undefined);
    rmSync(root, { recursive: true, force: true });
  }
  const header = ['job', 'runs', 'faults', 'retries', 'lost', 'counted twice', 'changed'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(
    `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n\n`,
  );
  process.stdout.write(
    `faults by kind: ${[...totals]
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}\n`,
  );
  return bad === 0 ? 0 : 1;
}

process.exitCode = await main();
