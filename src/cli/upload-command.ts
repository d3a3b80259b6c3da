import {
  DeleteRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { AddPermissionCommand, LambdaClient, RemovePermissionCommand } from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { checkTriggerName } from '../driver/triggered-run.js';
import type { UploadEvent, UploadRule } from '../driver/upload-run.js';
import { UsageError } from '../errors.js';
import { awsCall } from '../infra/stack-operations.js';
import { triggerRuleKey } from '../protocol/store-layout.js';
import { openStore } from '../store/open-store.js';
import { functionArnOf } from './function-arn.js';
import { type SubmitFlags, shippedDrive } from './submit-command.js';

/** Flags of `mr on-upload`: those of `mr submit` but `--input`, and what to watch. */
export interface UploadFlags extends SubmitFlags {
  bucket?: string;
  prefix?: string;
  suffix?: string;
  name?: string;
}

/** Fanout's EventBridge rules are named `fanout-<name>`, and so found again. */
const RULE_PREFIX = 'fanout-';
const TARGET_ID = 'fanout-runtime';
const permissionId = (name: string) => `fanout-upload-${name}`;

/**
 * `mr on-upload`: runs the job over each new object under `--prefix` in `--bucket`, as its own run
 * (`mr submit`'s driver in the runtime function). S3 sends the bucket's events to EventBridge (turned
 * on beside whatever notifications the bucket has, which are kept as they are: S3's API replaces a
 * bucket's whole configuration, so it is read and written back with EventBridge added); a rule per
 * job matches the objects and invokes the function, which may be invoked by that rule alone.
 * @throws {UsageError} for a missing bucket, an output without `{name}` or `{key}` or inside the
 *   watched prefix, or any flag `mr submit` refuses.
 */
export async function onUploadCommand(jobArg: string, flags: UploadFlags): Promise<string> {
  const { bucket, output } = flags;
  if (!bucket) throw new UsageError('mr on-upload needs --bucket NAME');
  const prefix = flags.prefix ?? '';
  if (flags.input !== undefined)
    throw new UsageError('mr on-upload reads each new object: it takes no --input');
  if (output === undefined)
    throw new UsageError("mr on-upload needs --output, e.g. 's3://bucket/out/{name}/'");
  if (!/\{(name|key)\}/.test(output)) {
    throw new UsageError(
      `each object's run needs its own output: put {name} or {key} in --output, got ${output}`,
    );
  }
  if (output.startsWith(`s3://${bucket}/${prefix}`)) {
    throw new UsageError(
      `--output ${output} is inside the watched s3://${bucket}/${prefix}: each output would start a run`,
    );
  }
  if (flags.name !== undefined) checkTriggerName(flags.name);
  const {
    name: jobName,
    drive,
    opts,
  } = await shippedDrive(jobArg, { ...flags, input: [`s3://${bucket}/${prefix}`] }, 'mr on-upload');
  const name = checkTriggerName(flags.name ?? jobName);
  const region = opts.region === undefined ? {} : { region: opts.region };
  const rule: UploadRule = { name, bucket, prefix, ...(flags.suffix && { suffix: flags.suffix }), drive };
  await openStore(opts.workDir).put(triggerRuleKey(name), `${JSON.stringify(rule, null, 2)}\n`);

  const functionArn = await functionArnOf(opts.functionName, region);
  await enableEventBridge(bucket, region);
  const events = new EventBridgeClient(region);
  const lambda = new LambdaClient(region);
  try {
    const { RuleArn } = await awsCall('EventBridge PutRule', () =>
      events.send(
        new PutRuleCommand({
          Name: `${RULE_PREFIX}${name}`,
          Description: `Fanout: ${drive.file} over new objects in s3://${bucket}/${prefix}`,
          State: 'ENABLED',
          EventPattern: JSON.stringify(objectCreatedPattern(bucket, prefix, flags.suffix)),
        }),
      ),
    );
    await awsCall('Lambda AddPermission', () =>
      lambda.send(
        new AddPermissionCommand({
          FunctionName: opts.functionName,
          StatementId: permissionId(name),
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: RuleArn,
        }),
      ),
    ).catch((err: unknown) => {
      // Made by an earlier mr on-upload of this name, for this same rule ARN.
      if ((err as { cause?: { name?: string } }).cause?.name !== 'ResourceConflictException') throw err;
    });
    // Placeholders outside quotes take the value as JSON (a key with a quote in it stays JSON).
    const fields: Record<keyof UploadEvent['upload'], string> = {
      rule: JSON.stringify(name),
      work: JSON.stringify(opts.workDir),
      bucket: '<bucket>',
      key: '<key>',
      sequencer: '<sequencer>',
      etag: '<etag>',
      time: '<time>',
    };
    const template = `{"upload":{${Object.entries(fields)
      .map(([k, v]) => `"${k}":${v}`)
      .join(',')}}}`;
    await awsCall('EventBridge PutTargets', () =>
      events.send(
        new PutTargetsCommand({
          Rule: `${RULE_PREFIX}${name}`,
          Targets: [
            {
              Id: TARGET_ID,
              Arn: functionArn,
              InputTransformer: {
                InputPathsMap: {
                  bucket: '$.detail.bucket.name',
                  key: '$.detail.object.key',
                  sequencer: '$.detail.object.sequencer',
                  etag: '$.detail.object.etag',
                  time: '$.time',
                },
                InputTemplate: template,
              },
            },
          ],
        }),
      ),
    );
  } finally {
    events.destroy();
    lambda.destroy();
  }
  process.stdout.write(
    `on upload to s3://${bucket}/${prefix}${flags.suffix ? `*${flags.suffix}` : ''}: ${drive.file} -> ${output} (rule ${RULE_PREFIX}${name})\n`,
  );
  return name;
}

/** `mr off-upload <name>`: removes the rule's target, the rule and the function's permission for it. */
export async function offUploadCommand(
  name: string,
  flags: { region?: string; function?: string },
): Promise<void> {
  const region = flags.region === undefined ? {} : { region: flags.region };
  const events = new EventBridgeClient(region);
  const lambda = new LambdaClient(region);
  const rule = `${RULE_PREFIX}${name}`;
  try {
    const listed = await awsCall('EventBridge ListRules', () =>
      events.send(new ListRulesCommand({ NamePrefix: rule })),
    );
    if (!(listed.Rules ?? []).some((r) => r.Name === rule))
      throw new UsageError(`no upload rule named ${name}`);
    const targets = await awsCall('EventBridge ListTargetsByRule', () =>
      events.send(new ListTargetsByRuleCommand({ Rule: rule })),
    );
    const ids = (targets.Targets ?? []).flatMap((t) => (t.Id ? [t.Id] : []));
    if (ids.length > 0) {
      await awsCall('EventBridge RemoveTargets', () =>
        events.send(new RemoveTargetsCommand({ Rule: rule, Ids: ids })),
      );
    }
    await awsCall('EventBridge DeleteRule', () => events.send(new DeleteRuleCommand({ Name: rule })));
    await lambda
      .send(
        new RemovePermissionCommand({
          FunctionName: flags.function ?? 'fanout-runtime',
          StatementId: permissionId(name),
        }),
      )
      .catch((err: unknown) => {
        if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
      });
  } finally {
    events.destroy();
    lambda.destroy();
  }
  // The bucket keeps sending events to EventBridge: other rules (ours or not) may use them.
  process.stdout.write(`upload rule ${name} removed\n`);
}

/** S3's "Object Created" events of the bucket, under the prefix, ending in the suffix. */
export function objectCreatedPattern(
  bucket: string,
  prefix: string,
  suffix?: string,
): Record<string, unknown> {
  const key = suffix ? [{ wildcard: `${escapeWildcard(prefix)}*${escapeWildcard(suffix)}` }] : [{ prefix }];
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: { bucket: { name: [bucket] }, object: { key } },
  };
}

/** A literal `*` or `\` in a wildcard pattern is escaped with `\`. */
function escapeWildcard(text: string): string {
  return text.replace(/[\\*]/g, (c) => `\\${c}`);
}

/**
 * Turns on the bucket's EventBridge notifications, keeping every other notification it has: the
 * configuration is read and written back whole, with EventBridge added, and left alone when on.
 */
async function enableEventBridge(bucket: string, region: { region?: string }): Promise<void> {
  const s3 = new S3Client({ ...region, forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  try {
    const current = await awsCall(`S3 GetBucketNotificationConfiguration ${bucket}`, () =>
      s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket })),
    );
    if (current.EventBridgeConfiguration) return;
    const { $metadata: _, ...config } = current;
    await awsCall(`S3 PutBucketNotificationConfiguration ${bucket}`, () =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: { ...config, EventBridgeConfiguration: {} },
        }),
      ),
    );
  } finally {
    s3.destroy();
  }
}
