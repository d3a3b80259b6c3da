/**
 * Writes the sample inputs under `jobs/data/<job>/` that `mr run jobs/<job>.ts` reads when given no
 * `--input`. Deterministic: the same seeds give byte-identical files, so re-running it shows no diff.
 * `jobs/data/wordcount-js` is a link to the word count's folder: both jobs read the same sample.
 * The samples themselves are defined in test/helpers/samples.ts, where the example jobs' oracles
 * read the records they were written from.
 *
 *   node --import tsx scripts/make-samples.ts
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSample, SAMPLES, type SampleName } from '../test/helpers/samples.js';

const DATA = fileURLToPath(new URL('../jobs/data/', import.meta.url));

for (const job of Object.keys(SAMPLES) as SampleName[]) {
  const dir = join(DATA, job);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let bytes = 0;
  for (const [name, content] of Object.entries(makeSample(job).files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
    bytes += Buffer.byteLength(content);
  }
  console.log(`${dir}: ${(bytes / 1024).toFixed(0)} KiB`);
}
