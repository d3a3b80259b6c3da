import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JobReport } from '../../src/driver/job-report.js';
import { runJob } from '../../src/index.js';
import { tempDirs } from '../helpers/temp.js';
import { wordText } from '../helpers/words.js';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
/** Where the screenshot goes (out/ is not tracked). */
const SCREENSHOT = resolve('out/report-browser.png');

describe('the report page in a real browser', () => {
  const setup = tempDirs('report-browser');

  it('draws one bar per attempt and the stage barriers, loading nothing from anywhere', async (t) => {
    if (!existsSync(CHROMIUM)) {
      process.stderr.write(`report-browser: skipped: no ${CHROMIUM} (apt-get install chromium)\n`);
      return t.skip(`no ${CHROMIUM}`);
    }
    const d = setup();
    d.file('in/a.txt', wordText(400, 60, 3));
    d.file('in/b.txt', wordText(400, 60, 4));
    // A map task that throws on its first attempt: a retry on the timeline, then two barriers.
    const result = await runJob(resolve('test/fixtures/jobs/flaky-map.ts'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: join(d.path, 'work'),
      splitSize: 1024,
      concurrency: 2,
      partitions: 4,
      retryBaseMs: 1,
    });
    const report = JSON.parse(
      readFileSync(join(d.path, 'out', '_report', 'report.json'), 'utf8'),
    ) as JobReport;
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const fetched: string[] = [];
      page.on('request', (r) => fetched.push(r.url()));
      await page.goto(pathToFileURL(result.report).href);
      expect(await page.locator('svg.timeline [data-attempt]').count()).toBe(report.attempts.length);
      expect(await page.locator('[data-attempt][data-outcome="retried"]').count()).toBe(1);
      const barriers = report.phases.filter((p) => p.endMs !== undefined).length;
      expect(barriers).toBe(2);
      expect(await page.locator('[data-barrier]').count()).toBe(barriers);
      // Every bar is drawn inside the plot, with a width.
      const widths = await page
        .locator('svg.timeline [data-attempt]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('width'))));
      for (const w of widths) expect(w).toBeGreaterThan(0);
      expect(await page.locator('h1').textContent()).toContain('succeeded');
      // The page itself, and nothing else.
      expect(fetched).toEqual([pathToFileURL(result.report).href]);
      mkdirSync(resolve('out'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
