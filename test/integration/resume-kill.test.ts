/**
 * Resume proofs on the local backend: `mr run` is SIGKILLed at a moment drawn from a seed, in the
 * map phase or the reduce phase, and `mr resume` must reach the oracle's output (word counts
 * computed here), keep every committed attempt as it was, and run each uncommitted task once and no
 * committed one. test/integration/resume-aws.test.ts does the same on the aws backend.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { Rng } from '../helpers/factories.js';
import { expectResumedOnlyUncommitted, type Phase, resume, runAndKill } from '../helpers/kill-driver.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';
import { countWords, wordText } from '../helpers/words.js';

const PARTITIONS = 6;
/** Where each seed kills the driver; the third draws its phase from the seed. */
const KILLS: { seed: number; phase: Phase }[] = [
  { seed: 1, phase: 'map' },
  { seed: 2, phase: 'reduce' },
  { seed: 3, phase: new Rng(3).chance(0.5) ? 'reduce' : 'map' },
];

describe('mr resume after the driver is killed at a random moment', { timeout: 120_000 }, () => {
  const setup = tempDirs('resume-kill');

  it.each(KILLS)(
    'seed $seed, in the $phase phase: reaches the oracle, re-running no committed task',
    async (at) => {
      const d = setup();
      const texts = [1, 2, 3].map((i) => wordText(200, 300, at.seed * 10 + i));
      for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
      const work = join(d.path, 'work');
      const out = join(d.path, 'out');
      const store = openStore(work);

      const killed = await runAndKill({
        args: [
          resolve('test/fixtures/jobs/slow-wordcount.ts'),
          ...['-i', join(d.path, 'in'), '-o', out, '--work', work],
          ...['--split-size', '1KiB', '-p', String(PARTITIONS), '-c', '2'],
        ],
        store,
        partitions: PARTITIONS,
        at,
      });
      await resume(killed.jobId, work);

      expect(await readOutput(out)).toEqual(countWords(...texts));
      await expectResumedOnlyUncommitted(store, killed);
    },
  );
});
