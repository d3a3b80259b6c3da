import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh temporary folder, removed by `cleanup()`. */
export function tempDir(label: string): {
  path: string;
  file(name: string, text: string | Uint8Array): string;
  cleanup(): void;
} {
  const path = mkdtempSync(join(tmpdir(), `fanout-${label}-`));
  return {
    path,
    file(name, text) {
      const p = join(path, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    cleanup() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
