import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

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

/** Makes fresh temporary folders for a test file; each is removed after the test that made it. */
export function tempDirs(label: string): () => ReturnType<typeof tempDir> {
  const made: ReturnType<typeof tempDir>[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) d.cleanup();
  });
  return () => {
    const d = tempDir(label);
    made.push(d);
    return d;
  };
}
