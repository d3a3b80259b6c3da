import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleJob } from '../../../src/backends/bundle-job.js';
import { UsageError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('bundle');
afterAll(() => d.cleanup());

const job = (n: number) =>
  `import { double } from './helper.js';\nexport default { kind: 'fanout.job', name: 'j${n}', input: { format: 'text' }, stages: [], double };\n`;

describe('bundleJob', () => {
  it('reuses the bundle while no input changed, and bundles again when an imported file does', async () => {
    const file = d.file('src/job.ts', job(1));
    const helper = d.file('src/helper.ts', 'export const double = (x: number) => 2 * x;\n');
    const out = join(d.path, 'work');
    const first = await bundleJob(file, out);
    const again = await bundleJob(file, out);
    expect(again).toEqual(first);
    // A change to a file the job imports, not only to the job file, makes a new bundle.
    writeFileSync(helper, 'export const double = (x: number) => x + x;\n');
    utimesSync(helper, new Date(), new Date(Date.now() + 5000));
    const changed = await bundleJob(file, out);
    expect(changed.sha256).not.toBe(first.sha256);
    expect(readdirSync(join(out, 'bundles')).filter((f) => f.endsWith('.mjs'))).toHaveLength(2);
  });

  it('names a missing file, a missing default export and a compile error', async () => {
    const out = join(d.path, 'work2');
    await expect(bundleJob(join(d.path, 'nope.ts'), out)).rejects.toThrow(/job file not found/);
    const noDefault = d.file('bad/no-default.ts', 'export const x = 1;\n');
    await expect(bundleJob(noDefault, out)).rejects.toThrow(/has no default export/);
    const broken = d.file('bad/broken.ts', 'export default {\n');
    await expect(bundleJob(broken, out)).rejects.toThrow(UsageError);
  });
});
