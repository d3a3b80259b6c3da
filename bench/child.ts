/** Child processes for the benchmarks: every tool is timed the same way, from spawn to exit. */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ChildResult {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A benchmark's own failure: printed as one line, exit 1. */
export class BenchError extends Error {}

/** Runs `node ...args` in the repository root; `ms` is spawn to exit. */
export function runNode(args: string[], cwd = ROOT): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let ms = 0;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('exit', () => {
      ms = performance.now() - t0;
    });
    child.on('close', (code, signal) => {
      resolvePromise({
        ms,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

export function check(what: string, r: ChildResult): void {
  if (r.code === 0) return;
  const tail = r.stderr.trimEnd().split('\n').slice(-20).join('\n');
  throw new BenchError(`${what} failed (${r.signal ?? `exit code ${r.code}`}):\n${tail}`);
}

/** The last stdout line that parses as a JSON object (the whole stdout first), or undefined. */
export function parseJsonObject(stdout: string): Record<string, unknown> | undefined {
  const candidates = [stdout, ...stdout.trimEnd().split('\n').reverse()];
  for (const c of candidates) {
    try {
      const v: unknown = JSON.parse(c);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
