// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${...}` here is CloudFormation's Fn::Sub syntax.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CfnValue } from '../../../src/infra/cfn-types.js';
import { buildTemplate, TEMPLATE_DEFAULTS } from '../../../src/infra/fanout-template.js';

const t = buildTemplate();
const props = (name: keyof typeof t.Resources) => t.Resources[name].Properties as Record<string, CfnValue>;

interface Statement {
  Sid: string;
  Action: string | string[];
  Resource: CfnValue;
}
const rawStatements = (props('Role').Policies as unknown as { PolicyDocument: { Statement: unknown[] } }[])[0]
  ?.PolicyDocument.Statement;
/** The role's statements; one given only when a condition holds (Fn::If) is taken as given. */
const statements = (rawStatements ?? [])
  .map((s) => {
    const cond = (s as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
    return cond ? cond[1] : (s as Statement);
  })
  .map((s) => ({ ...s, Action: [s.Action].flat() }));

/** Every string inside a value, intrinsic function arguments included. */
function strings(v: CfnValue): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

describe('the CloudFormation template', () => {
  it('runs the handler on Node.js 22, arm64 by default, with one vCPU and the longest timeout', () => {
    expect(props('Function')).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Architectures: [{ Ref: 'Architecture' }],
      MemorySize: { Ref: 'MemorySize' },
      Timeout: { Ref: 'Timeout' },
      Code: { S3Key: { Ref: 'CodeS3Key' } },
    });
    expect(t.Parameters).toMatchObject({
      Architecture: { Default: 'arm64', AllowedValues: ['arm64', 'x86_64'] },
      MemorySize: { Default: 1769, MinValue: 128, MaxValue: 10240 },
      Timeout: { Default: 900, MinValue: 1, MaxValue: 900 },
    });
  });

  it('bakes given defaults into the parameters', () => {
    const custom = buildTemplate({
      ...TEMPLATE_DEFAULTS,
      memoryMb: 3008,
      arch: 'x86_64',
      bucketName: 'mine',
    });
    expect(custom.Parameters.MemorySize.Default).toBe(3008);
    expect(custom.Parameters.Architecture.Default).toBe('x86_64');
    expect(custom.Parameters.BucketName.Default).toBe('mine');
  });

  it('grants the role no wildcard resource', () => {
    const resources = statements.flatMap((s) => strings(s.Resource));
    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources) expect(r).not.toMatch(/^\*$|:\*$|^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*/);
  });

  it('scopes S3 to the job bucket, logs to its own log group, Lambda to itself and SQS to the DLQ', () => {
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.ListJobBucket?.Action).toEqual(['s3:ListBucket']);
    expect(strings(bySid.ListJobBucket?.Resource ?? '')[0]).toBe('arn:${AWS::Partition}:s3:::${JobBucket}');
    expect(bySid.ReadWriteJobObjects?.Action.sort()).toEqual(
      ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'].sort(),
    );
    expect(strings(bySid.ReadWriteJobObjects?.Resource ?? '')[0]).toBe(
      'arn:${AWS::Partition}:s3:::${JobBucket}/*',
    );
    // JobBucket is the created bucket, or the existing one named by the parameter.
    expect(bySid.ReadWriteJobObjects?.Resource).toMatchObject({
      'Fn::Sub': [
        expect.any(String),
        { JobBucket: { 'Fn::If': ['CreateBucket', { Ref: 'Bucket' }, { Ref: 'BucketName' }] } },
      ],
    });
    expect(bySid.WriteOwnLogs).toMatchObject({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': ['LogGroup', 'Arn'] },
    });
    expect(bySid.SendToDeadLetterQueue).toMatchObject({
      Action: ['sqs:SendMessage'],
      Resource: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] },
    });
    // A submitted driver invokes the function it runs in, and nothing else.
    expect(bySid.InvokeOwnFunction).toMatchObject({
      Action: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
      Resource: {
        'Fn::Sub':
          'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-runtime',
      },
    });
    // sns:Publish only to the topics the stack names, and no statement at all when it names none.
    expect(rawStatements).toContainEqual({
      'Fn::If': [
        'HasNotifyTopics',
        {
          Sid: 'PublishNotices',
          Effect: 'Allow',
          Action: 'sns:Publish',
          Resource: { Ref: 'NotifyTopicArns' },
        },
        { Ref: 'AWS::NoValue' },
      ],
    });
    expect(t.Conditions.HasNotifyTopics).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'NotifyTopicArns' }] }, ''] }],
    });
    expect(t.Parameters.NotifyTopicArns).toMatchObject({ Type: 'CommaDelimitedList', Default: '' });
    expect(Object.keys(bySid)).toHaveLength(6);
    expect(props('LogGroup')).toMatchObject({
      LogGroupName: { 'Fn::Sub': '/aws/lambda/${AWS::StackName}-runtime' },
      RetentionInDays: { Ref: 'LogRetentionDays' },
    });
    expect(props('Function').FunctionName).toEqual({ 'Fn::Sub': '${AWS::StackName}-runtime' });
  });

  it('expires intermediate job data, aborts stale uploads, encrypts, blocks public access and keeps the bucket', () => {
    const bucket = t.Resources.Bucket;
    expect(bucket).toMatchObject({ Condition: 'CreateBucket', DeletionPolicy: 'Retain' });
    expect(props('Bucket').LifecycleConfiguration).toEqual({
      Rules: expect.arrayContaining([
        expect.objectContaining({ Prefix: 'jobs/', ExpirationInDays: { Ref: 'JobDataExpirationDays' } }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      ]),
    });
    expect(strings(props('Bucket').BucketEncryption ?? '')).toContain('AES256');
    expect(Object.values(props('Bucket').PublicAccessBlockConfiguration ?? {})).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(t.Conditions.CreateBucket).toEqual({ 'Fn::Equals': [{ Ref: 'BucketName' }, ''] });
  });

  it('keeps dead letters for 14 days', () => {
    expect(props('DeadLetterQueue').MessageRetentionPeriod).toBe(1_209_600);
  });

  it("gives schedules a role only this account's EventBridge Scheduler may assume, which may invoke only the runtime function", () => {
    const role = props('SchedulerRole');
    const trust = (role.AssumeRolePolicyDocument as { Statement: Record<string, CfnValue>[] }).Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    const policies = role.Policies as unknown as { PolicyDocument: { Statement: Statement[] } }[];
    expect(policies).toHaveLength(1);
    expect(policies[0]?.PolicyDocument.Statement).toEqual([
      {
        Sid: 'InvokeRuntimeFunction',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': ['Function', 'Arn'] },
      },
    ]);
    expect(t.Outputs.SchedulerRoleArn.Value).toEqual({ 'Fn::GetAtt': ['SchedulerRole', 'Arn'] });
  });

  it('outputs what the driver needs', () => {
    expect(Object.keys(t.Outputs).sort()).toEqual(
      ['BucketName', 'DlqArn', 'DlqUrl', 'FunctionArn', 'FunctionName', 'Region', 'SchedulerRoleArn'].sort(),
    );
  });

  it('refers only to parameters, resources and conditions it declares', () => {
    const declared = new Set([
      ...Object.keys(t.Parameters),
      ...Object.keys(t.Resources),
      'AWS::Region',
      'AWS::StackName',
      'AWS::AccountId',
      'AWS::NoValue',
    ]);
    const refs: string[] = [];
    const walk = (v: CfnValue): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, CfnValue>;
        if (typeof o.Ref === 'string') refs.push(o.Ref);
        const getAtt = o['Fn::GetAtt'];
        if (Array.isArray(getAtt)) refs.push(String(getAtt[0]));
        Object.values(o).forEach(walk);
      }
    };
    walk(t as unknown as CfnValue);
    expect(refs.filter((r) => !declared.has(r))).toEqual([]);
    const conditions = Object.values(t.Resources).flatMap((r) => (r.Condition ? [r.Condition] : []));
    for (const c of conditions) expect(t.Conditions).toHaveProperty(c);
  });

  // Regenerate: node bin/mr.js deploy --print-template > infra/fanout.template.json && npx biome format --write infra
  it('matches the generated infra/fanout.template.json', () => {
    const file = JSON.parse(readFileSync('infra/fanout.template.json', 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(t)));
  });
});
