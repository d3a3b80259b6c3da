import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FanoutError } from '../../../src/errors.js';
import { buildRuntimeZip, RUNTIME_ENTRY, zipFiles } from '../../../src/infra/runtime-zip.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('runtime-zip');
afterAll(() => d.cleanup());

/** Unpacks with Info-ZIP's unzip, an independent reader, and tests every entry's CRC. */
function unzip(zip: Uint8Array, into: string): string {
  const file = d.file(`${into}.zip`, zip);
  execFileSync('unzip', ['-tq', file]);
  execFileSync('unzip', ['-oq', file, '-d', join(d.path, into)]);
  return execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' });
}

describe('zipFiles', () => {
  it('writes a zip that unzip reads back byte for byte', () => {
    const text = 'export const x = 1;\n'.repeat(1000);
    const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256);
    const names = unzip(
      zipFiles([
        { name: 'index.mjs', data: Buffer.from(text) },
        { name: 'data/bytes.bin', data: binary },
      ]),
      'two',
    );
    expect(names.trim().split('\n')).toEqual(['index.mjs', 'data/bytes.bin']);
    expect(readFileSync(join(d.path, 'two/index.mjs'), 'utf8')).toBe(text);
    expect(new Uint8Array(readFileSync(join(d.path, 'two/data/bytes.bin')))).toEqual(binary);
  });
});

describe('buildRuntimeZip', () => {
  const entry = d.file(
    'handler/entry.ts',
    [
      "import { greet } from './greet.js';",
      'export async function handler(event: { name: string }): Promise<string> {',
      "  if (event.name === 'sdk') return typeof (await import('@aws-sdk/client-s3')).S3Client;",
      '  return greet(event.name);',
      '}',
    ].join('\n'),
  );
  d.file('handler/greet.ts', "export const greet = (name: string): string => 'hello ' + name;\n");

  it('bundles the handler into index.mjs with its imports, the AWS SDK included', async () => {
    const zip = await buildRuntimeZip(entry);
    expect(unzip(zip.bytes, 'bundle').trim()).toBe('index.mjs');
    const code = await import('node:fs').then((fs) =>
      fs.readFileSync(join(d.path, 'bundle/index.mjs'), 'utf8'),
    );
    expect(code).not.toContain('import("@aws-sdk/client-s3")'); // inside, not left to Lambda's older SDK
    expect(code).toContain('S3Client');
    const mod = (await import(pathToFileURL(join(d.path, 'bundle/index.mjs')).href)) as {
      handler: (e: { name: string }) => Promise<string>;
    };
    expect(await mod.handler({ name: 'lambda' })).toBe('hello lambda');
    expect(await mod.handler({ name: 'sdk' })).toBe('function');
  });

  it('is reproducible, so an unchanged runtime keeps its S3 key', async () => {
    const [a, b] = await Promise.all([buildRuntimeZip(entry), buildRuntimeZip(entry)]);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.sha256).toBe(a.sha256);
  });

  it('says which handler is missing', async () => {
    const missing = join(d.path, 'nope.ts');
    await expect(buildRuntimeZip(missing)).rejects.toThrow(FanoutError);
    await expect(buildRuntimeZip(missing)).rejects.toThrow(`runtime handler not found at ${missing}`);
  });

  it('says why a handler does not bundle', async () => {
    const broken = d.file(
      'broken.ts',
      "import { nothing } from './absent.js';\nexport const handler = nothing;\n",
    );
    await expect(buildRuntimeZip(broken)).rejects.toThrow(/cannot bundle the runtime handler .*absent/);
  });

  it('bundles the real Lambda handler found beside the running module', async () => {
    expect(RUNTIME_ENTRY).toMatch(/src[/\\]infra[/\\]function-handler\.ts$/);
    const zip = await buildRuntimeZip();
    unzip(zip.bytes, 'real');
    const code = readFileSync(join(d.path, 'real/index.mjs'), 'utf8');
    expect(code).toMatch(/export\s*\{[^}]*\bhandler\b/);
    expect(code).not.toMatch(/from "@smithy\/|from "\.\.?\//); // nothing left to resolve but the SDK and Node
  });
});
