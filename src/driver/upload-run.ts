import { createHash } from 'node:crypto';
import { triggerFiredKey, triggerLatestKey, triggerRuleKey } from '../protocol/store-layout.js';
import type { ShippedBundles } from '../runtime/shipped-bundles.js';
import { openStore } from '../store/open-store.js';
import { createLogger } from '../task/logger.js';
import { type DriveRequest, type DriverContext, driveJob } from './drive-job.js';
import { idTime } from './run-job.js';
import { type TriggeredReply, templated } from './triggered-run.js';

/** What `mr on-upload` keeps in the work store for its rule: the job, and what it watches. */
export interface UploadRule {
  name: string;
  bucket: string;
  prefix: string;
  suffix?: string;
  drive: Omit<DriveRequest, 'jobId' | 'generation'>;
}

/**
 * What an upload rule's EventBridge target sends the runtime function for one new object: the
 * rule (whose job is in the work store) and the object, from S3's "Object Created" event.
 */
export interface UploadEvent {
  upload: {
    rule: string;
    /** The work store holding the rule (`triggers/<rule>/rule.json`). */
    work: string;
    bucket: string;
    key: string;
    /** S3's sequencer of the write: two deliveries of one write carry the same. */
    sequencer?: string;
    etag?: string;
    /** The event's time, ISO 8601. */
    time: string;
  };
}

/**
 * `location` with the object's `{name}` (its file name without extensions: `a.csv.gz` is `a`) and
 * `{key}` (its key after the rule's prefix, without the file's extensions), and `{date}`, `{time}`
 * and `{datetime}` of the upload in UTC.
 * @example uploadTemplated('s3://b/out/{name}/', 'in/2026/a.csv', 'in/', at) // 's3://b/out/a/'
 */
export function uploadTemplated(location: string, key: string, prefix: string, at: Date): string {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  const file = rest.slice(rest.lastIndexOf('/') + 1);
  const base = file.includes('.') && !file.startsWith('.') ? file.slice(0, file.indexOf('.')) : file;
  const dir = rest.slice(0, rest.length - file.length);
  return templated(location.replaceAll('{name}', base).replaceAll('{key}', `${dir}${base}`), at);
}

/**
 * Runs a rule's job over one new object, once: a delivery of the same write again (EventBridge
 * delivers at least once) finds it recorded under `triggers/<rule>/fired/` and stops. The run's id
 * is `<rule>-<upload time>-<6 hex digits of the write>`, its input the object alone.
 */
export async function runUpload(
  event: UploadEvent,
  ctx: DriverContext,
  bundles: ShippedBundles,
): Promise<TriggeredReply> {
  const u = event.upload;
  const at = new Date(u.time);
  if (Number.isNaN(at.getTime()))
    throw new TypeError(`event.upload.time is not a time: ${JSON.stringify(u.time)}`);
  const work = openStore(u.work);
  const rule = JSON.parse(Buffer.from(await work.get(triggerRuleKey(u.rule))).toString('utf8')) as UploadRule;
  const object = `s3://${u.bucket}/${u.key}`;
  const write = createHash('sha256')
    .update(`${u.bucket}\n${u.key}\n${u.sequencer ?? u.etag ?? u.time}`)
    .digest('hex')
    .slice(0, 16);
  const jobId = `${u.rule}-${idTime(at)}-${write.slice(0, 6)}`;
  const log = createLogger({ jobId });
  const fired = await work.putIf(
    triggerFiredKey(u.rule, write),
    JSON.stringify({ object, jobId, time: u.time }),
    {
      ifAbsent: true,
    },
  );
  if (!fired.ok) {
    log.info(`${object} delivered again: already run, skipped`);
    return { ok: true, skipped: `already ran for ${object}` };
  }
  await work.put(triggerLatestKey(u.rule), jobId);
  const options = {
    ...rule.drive.options,
    input: [object],
    output: uploadTemplated(rule.drive.options.output, u.key, rule.prefix, at),
  };
  log.info(`${object} arrived: running ${rule.drive.file} into ${options.output}`);
  return driveJob({ ...rule.drive, options, jobId, generation: 0 }, ctx, bundles);
}
