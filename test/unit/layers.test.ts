import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of src/, lowest first (README, "Layout"). A module may import its own layer and the
 * ones below, never one above: task code (mapper, reducer, runtime) cannot reach the driver, and a
 * backend cannot reach the stream consumer. `index.ts`, the public API, sits above everything.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'duration.ts', 'backoff.ts', 'process-gone.ts'],
  ['store'],
  ['job', 'output/output-spec.ts', 'stream/define-stream.ts', 'stream/types.ts'],
  ['protocol'],
  ['shuffle'],
  ['task', 'output'],
  ['mapper', 'reducer'],
  ['runtime'],
  ['backends', 'sim'],
  ['driver', 'stream'],
  ['infra', 'dev'],
  ['bench', 'plan'],
  ['cli'],
  ['index.ts'],
];

const src = resolve('src');

/** The layer of a file under src/: the most specific entry that holds it. */
function layerOf(file: string): number {
  const rel = relative(src, file).split('\\').join('/');
  let best = -1;
  let bestLength = -1;
  LAYERS.forEach((entries, layer) => {
    for (const entry of entries) {
      const holds = entry.endsWith('.ts') ? rel === entry : rel.startsWith(`${entry}/`);
      if (holds && entry.length > bestLength) {
        best = layer;
        bestLength = entry.length;
      }
    }
  });
  return best;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a file, static and dynamic, as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string);
  return found.map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
}

describe('the layers of src/', () => {
  const files = sourceFiles(src);

  it('place every source file in a layer', () => {
    expect(files.filter((f) => layerOf(f) < 0).map((f) => relative(src, f))).toEqual([]);
  });

  it('have no import that points up the order', () => {
    const upward: string[] = [];
    for (const file of files) {
      for (const target of importsOf(file)) {
        if (layerOf(target) > layerOf(file))
          upward.push(`${relative(src, file)} -> ${relative(src, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
