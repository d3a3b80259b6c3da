import { createInterface } from 'node:readline/promises';
import {
  CloudFormationClient,
  type Parameter,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNS_TOPIC_ARN } from '../driver/notify.js';
import { FanoutError, UsageError } from '../errors.js';
import { buildTemplate, PARAM, TEMPLATE_DEFAULTS, type TemplateDefaults } from '../infra/fanout-template.js';
import { buildRuntimeZip, type RuntimeZip } from '../infra/runtime-zip.js';
import {
  applyStack,
  awsCall,
  type CloudFormationLike,
  deleteStack,
  describeStack,
  type StackContext,
  stackOutputs,
} from '../infra/stack-operations.js';
import { parseCount } from './parse-size.js';

/** Flags of `mr deploy`, as commander hands them over. */
export interface DeployFlags {
  stackName?: string;
  bucket?: string;
  memory?: string;
  timeout?: string;
  arch?: string;
  notifyTopic?: string[];
  region?: string;
  printTemplate?: boolean;
}

/** Flags of `mr destroy`. */
export interface DestroyFlags {
  stackName?: string;
  region?: string;
  yes?: boolean;
}

/** AWS clients the commands use. */
export interface DeployClients {
  cloudFormation: CloudFormationLike;
  s3: Pick<S3Client, 'send'>;
}

/** What the commands reach outside themselves; tests replace any of it. */
export interface DeployDeps {
  /** Builds the clients; by default SDK clients with the default credential chain and region. */
  clients?: (region: string | undefined) => DeployClients;
  buildRuntime?: () => Promise<RuntimeZip>;
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  pollMs?: number;
  /** Whether a person can answer a question; default: stdin and stderr are terminals. */
  interactive?: boolean;
  confirm?: (question: string) => Promise<boolean>;
}

/** `mr deploy` settings after validation. Unset values keep the stack's previous (or default) values. */
export interface DeploySettings {
  stackName: string;
  bucket?: string;
  memoryMb?: number;
  timeoutS?: number;
  arch?: 'arm64' | 'x86_64';
  region?: string;
  /** SNS topics runs driven in the function may publish notices to. */
  notifyTopics?: string[];
}

const DEFAULT_STACK = 'fanout';

/** Validates `mr deploy` flags. @throws {UsageError} naming the flag and the value received. */
export function parseDeployFlags(flags: DeployFlags): DeploySettings {
  const s: DeploySettings = { stackName: parseStackName(flags.stackName) };
  if (flags.bucket !== undefined) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(flags.bucket))
      throw new UsageError(`invalid bucket name ${JSON.stringify(flags.bucket)} for --bucket`);
    s.bucket = flags.bucket;
  }
  if (flags.memory !== undefined) s.memoryMb = inRange(flags.memory, '--memory', 128, 10240, ' MB');
  if (flags.timeout !== undefined) s.timeoutS = inRange(flags.timeout, '--timeout', 1, 900, ' s');
  if (flags.notifyTopic !== undefined) {
    for (const arn of flags.notifyTopic) {
      if (!SNS_TOPIC_ARN.test(arn))
        throw new UsageError(`invalid SNS topic ARN ${JSON.stringify(arn)} for --notify-topic`);
    }
    s.notifyTopics = flags.notifyTopic;
  }
  if (flags.arch !== undefined) {
    if (flags.arch !== 'arm64' && flags.arch !== 'x86_64')
      throw new UsageError(
        `invalid value ${JSON.stringify(flags.arch)} for --arch: expected arm64 or x86_64`,
      );
    s.arch = flags.arch;
  }
  if (flags.region !== undefined) s.region = parseRegion(flags.region);
  return s;
}

function inRange(text: string, flag: string, min: number, max: number, unit: string): number {
  const n = parseCount(text, flag);
  if (n < min || n > max) throw new UsageError(`${flag} must be ${min} to ${max}${unit}, got ${text}`);
  return n;
}

function parseStackName(name = DEFAULT_STACK): string {
  // The function is named `<stack>-runtime`, and Lambda names stop at 64 characters.
  if (!/^[A-Za-z][A-Za-z0-9-]{0,55}$/.test(name))
    throw new UsageError(
      `invalid stack name ${JSON.stringify(name)} for --stack-name: use up to 56 letters, digits and hyphens, starting with a letter`,
    );
  return name;
}

function parseRegion(region: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    throw new UsageError(`invalid region ${JSON.stringify(region)} for --region, e.g. eu-west-1`);
  return region;
}

function sdkClients(region: string | undefined): DeployClients {
  // An undefined region lets the SDK's chain decide (AWS_REGION, then the profile's region).
  const config = region === undefined ? {} : { region };
  return { cloudFormation: new CloudFormationClient(config), s3: new S3Client(config) };
}

function templateDefaults(s: DeploySettings): TemplateDefaults {
  return {
    memoryMb: s.memoryMb ?? TEMPLATE_DEFAULTS.memoryMb,
    timeoutS: s.timeoutS ?? TEMPLATE_DEFAULTS.timeoutS,
    arch: s.arch ?? TEMPLATE_DEFAULTS.arch,
    bucketName: s.bucket ?? TEMPLATE_DEFAULTS.bucketName,
  };
}

/** Stack parameters: the given values; on an update every other one keeps its current value. */
function stackParameters(s: DeploySettings, code: { key: string }, existing: Stack | undefined): Parameter[] {
  const given = new Map<string, string>([
    [PARAM.codeBucket, ''], // always the job bucket: the zip is uploaded there
    [PARAM.codeKey, code.key],
  ]);
  if (s.bucket !== undefined) given.set(PARAM.bucketName, s.bucket);
  if (s.memoryMb !== undefined) given.set(PARAM.memory, String(s.memoryMb));
  if (s.timeoutS !== undefined) given.set(PARAM.timeout, String(s.timeoutS));
  if (s.arch !== undefined) given.set(PARAM.arch, s.arch);
  if (s.notifyTopics !== undefined) given.set(PARAM.notifyTopics, s.notifyTopics.join(','));
  const params: Parameter[] = [...given].map(([ParameterKey, ParameterValue]) => ({
    ParameterKey,
    ParameterValue,
  }));
  // An omitted parameter would fall back to its default, so current values are passed on explicitly;
  // only parameters the template still declares, or CloudFormation rejects the update.
  const declared = new Set<string>(Object.values(PARAM));
  for (const { ParameterKey, ParameterValue } of existing?.Parameters ?? []) {
    if (
      ParameterKey &&
      ParameterValue !== undefined &&
      declared.has(ParameterKey) &&
      !given.has(ParameterKey)
    )
      params.push({ ParameterKey, ParameterValue });
  }
  return params;
}

function formatEvent(e: StackEvent): string {
  const time = e.Timestamp ? e.Timestamp.toISOString().slice(11, 19) : '--:--:--';
  const reason = e.ResourceStatusReason ? `  ${e.ResourceStatusReason}` : '';
  return `${time}  ${(e.ResourceStatus ?? '').padEnd(20)}  ${(e.ResourceType ?? '').padEnd(26)}  ${e.LogicalResourceId ?? ''}${reason}\n`;
}

function context(deps: DeployDeps, cfn: CloudFormationLike, stackName: string): StackContext {
  const stderr = deps.stderr ?? process.stderr;
  return {
    cfn,
    stackName,
    onEvent: (e) => stderr.write(formatEvent(e)),
    ...(deps.pollMs !== undefined && { pollMs: deps.pollMs }),
  };
}

/** Refuses stacks that cannot take an update now, with what to do instead. */
function assertUpdatable(stack: Stack | undefined, name: string): void {
  const status = stack?.StackStatus ?? '';
  if (status.endsWith('_IN_PROGRESS'))
    throw new FanoutError(`stack ${name} is busy (${status}); wait for it to settle and deploy again`);
  if (['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'UPDATE_ROLLBACK_FAILED', 'DELETE_FAILED'].includes(status))
    throw new FanoutError(
      `stack ${name} is ${status} after a failed operation and cannot be updated; run mr destroy --stack-name ${name}, then deploy again`,
    );
}

/**
 * `mr deploy`: bundles and uploads the runtime, then creates or updates the stack.
 * The code must be in S3 before the function can exist, and it goes to the stack's own bucket so
 * everything lives in one stack: a first deploy without --bucket creates the bucket and queue
 * (no code key, so no function), uploads `runtime/<sha256>.zip`, then updates the stack with it.
 * @returns the stack's outputs.
 * @throws {UsageError} for bad flags; {FanoutError} when AWS refuses or the stack fails.
 */
export async function deployCommand(
  flags: DeployFlags,
  deps: DeployDeps = {},
): Promise<Record<string, string>> {
  const s = parseDeployFlags(flags);
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  if (flags.printTemplate) {
    stdout.write(`${JSON.stringify(buildTemplate(templateDefaults(s)), null, 2)}\n`);
    return {};
  }
  const clients = (deps.clients ?? sdkClients)(s.region);
  const ctx = context(deps, clients.cloudFormation, s.stackName);
  const templateBody = JSON.stringify(buildTemplate());
  let stack = await describeStack(clients.cloudFormation, s.stackName);
  assertUpdatable(stack, s.stackName);
  // Build before changing anything in AWS, so a broken build leaves the account as it was.
  const zip = await (deps.buildRuntime ?? buildRuntimeZip)();
  const isNew = stack === undefined;
  let bucket = s.bucket ?? stackOutputs(stack).BucketName;
  if (!bucket) {
    stderr.write(
      `creating stack ${s.stackName}: bucket and dead-letter queue first, to upload the runtime into\n`,
    );
    stack = (await applyStack(ctx, undefined, templateBody, stackParameters(s, { key: '' }, undefined)))
      .stack;
    bucket = stackOutputs(stack).BucketName;
    if (!bucket) throw new FanoutError(`stack ${s.stackName} reported no BucketName output`);
  }
  const key = `runtime/${zip.sha256}.zip`;
  stderr.write(`uploading the runtime (${zip.bytes.byteLength} bytes) to s3://${bucket}/${key}\n`);
  await awsCall(`S3 PutObject s3://${bucket}/${key}`, () =>
    clients.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip.bytes, ContentType: 'application/zip' }),
    ),
  );
  const result = await applyStack(ctx, stack, templateBody, stackParameters(s, { key }, stack));
  const outputs = stackOutputs(result.stack);
  const what = {
    created: 'created',
    updated: 'updated',
    unchanged: 'already up to date',
    deleted: 'deleted',
  };
  stdout.write(
    `stack ${s.stackName} ${isNew ? 'created' : what[result.outcome]} in ${outputs.Region ?? s.region ?? 'its region'}\n`,
  );
  const width = Math.max(0, ...Object.keys(outputs).map((k) => k.length));
  for (const [k, v] of Object.entries(outputs)) stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  return outputs;
}

async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question));
  } finally {
    rl.close();
  }
}

/**
 * `mr destroy`: deletes the stack after confirmation. The bucket is retained (it holds job outputs).
 * @throws {UsageError} without --yes when no one can be asked; {FanoutError} when the deletion fails.
 */
export async function destroyCommand(flags: DestroyFlags, deps: DeployDeps = {}): Promise<void> {
  const stackName = parseStackName(flags.stackName);
  const region = flags.region === undefined ? undefined : parseRegion(flags.region);
  const interactive = deps.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY);
  if (!flags.yes && !interactive)
    throw new UsageError(
      `refusing to delete stack ${stackName} without confirmation: pass --yes when not on a terminal`,
    );
  const stdout = deps.stdout ?? process.stdout;
  const { cloudFormation } = (deps.clients ?? sdkClients)(region);
  const stack = await describeStack(cloudFormation, stackName);
  if (!stack) {
    stdout.write(`stack ${stackName} does not exist; nothing to delete\n`);
    return;
  }
  const bucket = stackOutputs(stack).BucketName;
  if (!flags.yes) {
    const question =
      `Delete stack ${stackName} (runtime function, role, logs, and the dead-letter queue with any messages in it)? ` +
      `${bucket ? `Bucket ${bucket} is kept. ` : ''}[y/N] `;
    if (!(await (deps.confirm ?? askYesNo)(question)))
      throw new FanoutError(`not confirmed; stack ${stackName} was left as it is`);
  }
  await deleteStack(context(deps, cloudFormation, stackName), stack);
  stdout.write(`stack ${stackName} deleted\n`);
  const ownBucket = stack.Parameters?.some((p) => p.ParameterKey === PARAM.bucketName && p.ParameterValue);
  if (bucket && ownBucket) stdout.write(`  bucket ${bucket} was not made by the stack and is untouched\n`);
  else if (bucket)
    stdout.write(`  kept bucket ${bucket}: it holds job outputs; empty and delete it when done\n`);
}
