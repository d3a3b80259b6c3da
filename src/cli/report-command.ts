import { relative } from 'node:path';
import { jobReport } from '../driver/report-files.js';
import { isUrl } from '../store/open-store.js';
import { pricesFrom } from './prices-flag.js';

/** Flags of `mr report`. */
export interface ReportFlags {
  work?: string;
  prices?: string;
}

/** `mr report <id>`: prints where the job's report page is, building it again if it is missing. */
export async function reportCommand(jobId: string, flags: ReportFlags): Promise<void> {
  const { path } = await jobReport(jobId, {
    ...(flags.work !== undefined && { workDir: flags.work }),
    ...pricesFrom(flags.prices),
  });
  const rel = isUrl(path) ? '' : relative(process.cwd(), path);
  process.stdout.write(`${rel && !rel.startsWith('..') ? rel : path}\n`);
}
