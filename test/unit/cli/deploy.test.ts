import type { Parameter } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import {
  type DeployClients,
  type DeployDeps,
  deployCommand,
  destroyCommand,
  parseDeployFlags,
} from '../../../src/cli/deploy-command.js';
import { FanoutError, UsageError } from '../../../src/errors.js';
import { buildTemplate } from '../../../src/infra/fanout-template.js';
import { StackOperationError } from '../../../src/infra/stack-operations.js';
import { FakeCloudFormation } from '../../helpers/fake-cloudformation.js';

const ZIP = { bytes: new Uint8Array([80, 75, 5, 6]), sha256: 'a'.repeat(64) };
const KEY = `runtime/${ZIP.sha256}.zip`;
const DEPLOYED = {
  BucketName: '',
  CodeS3Bucket: '',
  CodeS3Key: 'runtime/old.zip',
  MemorySize: '1769',
  Timeout: '900',
  Architecture: 'arm64',
};

/** Stubbed clients and captured output; nothing here can reach AWS or read credentials. */
function harness() {
  const cfn = new FakeCloudFormation();
  const puts: { Bucket?: string; Key?: string }[] = [];
  const s3 = {
    send: async (command: { input: { Bucket?: string; Key?: string } }) => {
      puts.push({ Bucket: command.input.Bucket, Key: command.input.Key });
      // Logged with the stack calls so tests can check the upload comes before the stack needs it.
      cfn.calls.push({ command: 'PutObject', input: command.input });
      return {};
    },
  };
  const out: string[] = [];
  const err: string[] = [];
  const deps: DeployDeps = {
    clients: () => ({ cloudFormation: cfn, s3 }) as unknown as DeployClients,
    buildRuntime: async () => ZIP,
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    pollMs: 0,
    interactive: false,
  };
  return { cfn, puts, deps, stdout: () => out.join(''), stderr: () => err.join('') };
}

const paramsOf = (input: Record<string, unknown>) =>
  Object.fromEntries((input.Parameters as Parameter[]).map((p) => [p.ParameterKey, p.ParameterValue]));

describe('mr deploy', () => {
  it('creates the bucket first on a new stack, uploads the runtime into it, then adds the function', async () => {
    const h = harness();
    const outputs = await deployCommand({}, h.deps);
    expect(h.cfn.mutations()).toEqual(['CreateStack', 'PutObject', 'UpdateStack']);
    const [create, update] = h.cfn.calls.filter(
      (c) => c.command.endsWith('Stack') && !c.command.startsWith('D'),
    );
    expect(paramsOf(create?.input ?? {})).toMatchObject({ CodeS3Key: '' });
    expect(h.puts).toEqual([{ Bucket: 'fanout-bucket-1a2b3c', Key: KEY }]);
    expect(paramsOf(update?.input ?? {})).toMatchObject({
      CodeS3Key: KEY,
      CodeS3Bucket: '',
      BucketName: '', // still the stack's own bucket
      MemorySize: '1769',
    });
    expect(outputs).toMatchObject({ FunctionName: 'fanout-runtime', BucketName: 'fanout-bucket-1a2b3c' });
    expect(h.stdout()).toMatch(/^stack fanout created in eu-west-1\n/);
    for (const key of ['FunctionName', 'FunctionArn', 'BucketName', 'DlqUrl', 'DlqArn', 'Region'])
      expect(h.stdout()).toContain(`  ${key}`);
    expect(h.stderr()).toMatch(/CREATE_COMPLETE\s+AWS::CloudFormation::Stack/);
  });

  it('creates in one step into an existing --bucket, uploading before the stack is created', async () => {
    const h = harness();
    await deployCommand({ bucket: 'my-data', memory: '3008', arch: 'x86_64' }, h.deps);
    expect(h.cfn.mutations()).toEqual(['PutObject', 'CreateStack']);
    const create = h.cfn.calls.find((c) => c.command === 'CreateStack');
    expect(h.puts[0]).toMatchObject({ Bucket: 'my-data', Key: KEY });
    expect(create?.input).toMatchObject({ StackName: 'fanout', Capabilities: ['CAPABILITY_IAM'] });
    expect(paramsOf(create?.input ?? {})).toEqual({
      BucketName: 'my-data',
      CodeS3Bucket: '',
      CodeS3Key: KEY,
      MemorySize: '3008',
      Architecture: 'x86_64',
    });
  });

  it('updates an existing stack, keeping the values of flags not given', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'CREATE_COMPLETE', { ...DEPLOYED, MemorySize: '4096' });
    await deployCommand({ timeout: '300' }, h.deps);
    expect(h.cfn.mutations()).toEqual(['PutObject', 'UpdateStack']);
    expect(h.puts[0]).toMatchObject({ Bucket: 'fanout-bucket-1a2b3c', Key: KEY });
    const update = h.cfn.calls.find((c) => c.command === 'UpdateStack');
    expect(paramsOf(update?.input ?? {})).toEqual({
      CodeS3Bucket: '',
      CodeS3Key: KEY,
      Timeout: '300',
      BucketName: '',
      MemorySize: '4096',
      Architecture: 'arm64',
    });
    expect(h.stdout()).toMatch(/^stack fanout updated in eu-west-1/);
    expect(h.stderr()).toMatch(/UPDATE_COMPLETE/);
  });

  it('passes the SNS topics jobs driven in the function may notify', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'CREATE_COMPLETE', DEPLOYED);
    const topics = ['arn:aws:sns:eu-west-1:123456789012:jobs', 'arn:aws:sns:eu-west-1:123456789012:alerts'];
    await deployCommand({ notifyTopic: topics }, h.deps);
    const update = h.cfn.calls.find((c) => c.command === 'UpdateStack');
    expect(paramsOf(update?.input ?? {}).NotifyTopicArns).toBe(topics.join(','));
  });

  it('treats "No updates are to be performed" as success and prints the outputs', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'UPDATE_COMPLETE', { ...DEPLOYED, CodeS3Key: KEY }, JSON.stringify(buildTemplate()));
    const outputs = await deployCommand({}, h.deps);
    expect(h.stdout()).toMatch(/^stack fanout already up to date in eu-west-1/);
    expect(outputs.FunctionArn).toMatch(/^arn:aws:lambda:/);
    expect(h.cfn.calls.filter((c) => c.command === 'DescribeStacks')).toHaveLength(1);
  });

  it('fails with the first root cause, not the cancellations that follow it', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'CREATE_COMPLETE', DEPLOYED);
    h.cfn.script = {
      fail: { resource: 'Function', reason: 'Error occurred while GetObject. S3 Error Code: NoSuchKey' },
    };
    const run = deployCommand({}, h.deps);
    await expect(run).rejects.toThrow(StackOperationError);
    await expect(run).rejects.toThrow(
      'update of stack fanout failed (UPDATE_ROLLBACK_COMPLETE): Function: Error occurred while GetObject. S3 Error Code: NoSuchKey',
    );
    expect(h.stderr()).toMatch(/UPDATE_FAILED\s+AWS::Lambda::Function\s+Function {2}Error occurred/);
    expect(h.stdout()).toBe('');
  });

  it.each([
    ['UPDATE_IN_PROGRESS', /busy/],
    ['ROLLBACK_COMPLETE', /mr destroy --stack-name fanout/],
  ])('refuses a stack in %s before building or uploading anything', async (status, message) => {
    const h = harness();
    h.cfn.seed('fanout', status, DEPLOYED);
    const builds: string[] = [];
    const buildRuntime = async () => {
      builds.push('built');
      return ZIP;
    };
    await expect(deployCommand({}, { ...h.deps, buildRuntime })).rejects.toThrow(message);
    expect({ builds, mutations: h.cfn.mutations() }).toEqual({ builds: [], mutations: [] });
  });

  it('changes nothing in AWS when the runtime does not build', async () => {
    const h = harness();
    const broken = async () => Promise.reject(new FanoutError('cannot bundle the runtime handler'));
    await expect(deployCommand({}, { ...h.deps, buildRuntime: broken })).rejects.toThrow(/cannot bundle/);
    expect(h.cfn.mutations()).toEqual([]);
  });

  it('prints the template without constructing any AWS client', async () => {
    const h = harness();
    const noClients = () => {
      throw new Error('no client may be built for --print-template');
    };
    await deployCommand({ printTemplate: true, memory: '512' }, { ...h.deps, clients: noClients });
    const template = JSON.parse(h.stdout());
    expect(template.Parameters.MemorySize.Default).toBe(512);
    expect(template.Resources.Function.Properties.Runtime).toBe('nodejs22.x');
  });
});

describe('mr deploy flags', () => {
  it.each([
    [{ arch: 'arm' }, /--arch/],
    [{ memory: 'lots' }, /--memory/],
    [{ memory: '127' }, /--memory must be 128 to 10240 MB, got 127/],
    [{ memory: '10241' }, /--memory/],
    [{ timeout: '0' }, /--timeout/],
    [{ timeout: '901' }, /--timeout must be 1 to 900 s, got 901/],
    [{ stackName: '9lives' }, /--stack-name/],
    [{ stackName: 'x'.repeat(57) }, /--stack-name/],
    [{ bucket: 'Upper_Case' }, /--bucket/],
    [{ region: 'mars' }, /--region/],
    [
      { notifyTopic: ['arn:aws:sqs:us-east-1:123456789012:q'] },
      /invalid SNS topic ARN .* for --notify-topic/,
    ],
  ])('rejects %j with one line naming the flag', (flags, message) => {
    expect(() => parseDeployFlags(flags)).toThrow(UsageError);
    expect(() => parseDeployFlags(flags)).toThrow(message);
  });

  it('accepts the documented ranges', () => {
    expect(parseDeployFlags({ memory: '10240', timeout: '1', arch: 'x86_64', region: 'eu-west-1' })).toEqual({
      stackName: 'fanout',
      memoryMb: 10240,
      timeoutS: 1,
      arch: 'x86_64',
      region: 'eu-west-1',
    });
  });
});

describe('mr destroy', () => {
  it('refuses without --yes when no one can be asked, before touching AWS', async () => {
    const h = harness();
    const noClients = () => {
      throw new Error('no client may be built');
    };
    await expect(destroyCommand({}, { ...h.deps, clients: noClients })).rejects.toThrow(UsageError);
  });

  it('deletes the stack with --yes, waits, and names the bucket it kept', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'CREATE_COMPLETE', DEPLOYED);
    await destroyCommand({ yes: true }, h.deps);
    expect(h.cfn.mutations()).toEqual(['DeleteStack']);
    expect(h.stdout()).toBe(
      'stack fanout deleted\n  kept bucket fanout-bucket-1a2b3c: it holds job outputs; empty and delete it when done\n',
    );
    expect(h.stderr()).toMatch(/DELETE_COMPLETE/);
  });

  it('says a bucket the stack did not make is untouched', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'CREATE_COMPLETE', { ...DEPLOYED, BucketName: 'my-data' });
    await destroyCommand({ yes: true }, h.deps);
    expect(h.stdout()).toContain('bucket my-data was not made by the stack and is untouched');
  });

  it('asks on a terminal and deletes nothing when the answer is no', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'CREATE_COMPLETE', DEPLOYED);
    const questions: string[] = [];
    const confirm = async (q: string) => {
      questions.push(q);
      return false;
    };
    await expect(destroyCommand({}, { ...h.deps, interactive: true, confirm })).rejects.toThrow(
      /not confirmed/,
    );
    expect(questions[0]).toMatch(
      /Delete stack fanout .*dead-letter queue.*Bucket fanout-bucket-1a2b3c is kept/,
    );
    expect(h.cfn.mutations()).toEqual([]);
  });

  it('reports a failed deletion with its reasons', async () => {
    const h = harness();
    h.cfn.seed('fanout', 'CREATE_COMPLETE', DEPLOYED);
    h.cfn.script = { fail: { resource: 'Function', reason: 'Access denied' } };
    await expect(destroyCommand({ yes: true }, h.deps)).rejects.toThrow(
      'delete of stack fanout failed (DELETE_FAILED): Function: Access denied',
    );
  });

  it('succeeds with nothing to do when the stack does not exist', async () => {
    const h = harness();
    await destroyCommand({ yes: true }, h.deps);
    expect(h.stdout()).toBe('stack fanout does not exist; nothing to delete\n');
    expect(h.cfn.mutations()).toEqual([]);
  });
});
