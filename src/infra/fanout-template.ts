// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${...}` here is CloudFormation's Fn::Sub syntax.
/**
 * The CloudFormation template for Fanout's AWS side: one runtime function, its role and log group,
 * the work bucket (or an existing one) and the stream module's dead-letter queue.
 * This builder is the one source of truth; `infra/fanout.template.json` is generated from it.
 */

import type { CfnParameter, CfnResource, CfnTemplate, CfnValue } from './cfn-types.js';

/** Parameter names, shared with `mr deploy` so both sides agree on spelling. */
export const PARAM = {
  bucketName: 'BucketName',
  codeBucket: 'CodeS3Bucket',
  codeKey: 'CodeS3Key',
  memory: 'MemorySize',
  timeout: 'Timeout',
  arch: 'Architecture',
  tmpSize: 'EphemeralStorageSize',
  jobDataDays: 'JobDataExpirationDays',
  logDays: 'LogRetentionDays',
  notifyTopics: 'NotifyTopicArns',
} as const;
type ParameterName = (typeof PARAM)[keyof typeof PARAM];
type ConditionName = 'CreateBucket' | 'HasCode' | 'CodeInJobBucket' | 'HasNotifyTopics';
type ResourceName =
  | 'Bucket'
  | 'BucketPolicy'
  | 'DeadLetterQueue'
  | 'LogGroup'
  | 'Role'
  | 'Function'
  | 'SchedulerRole';
type OutputName =
  | 'FunctionName'
  | 'FunctionArn'
  | 'SchedulerRoleArn'
  | 'BucketName'
  | 'DlqUrl'
  | 'DlqArn'
  | 'Region';
/** The Fanout template's shape: every name it refers to is checked. */
export type FanoutTemplate = CfnTemplate<ParameterName, ConditionName, ResourceName, OutputName>;

/** Defaults a template can be built with (`mr deploy --print-template --memory 3008` bakes them in). */
export interface TemplateDefaults {
  /** @default 1769 (one full vCPU) */
  memoryMb: number;
  /** @default 900 (Lambda's maximum) */
  timeoutS: number;
  /** @default 'arm64' (about 20% cheaper per GB-second than x86_64) */
  arch: 'arm64' | 'x86_64';
  /** @default '' (the stack creates its own bucket) */
  bucketName: string;
}

/** The defaults `mr deploy` and the template share. */
export const TEMPLATE_DEFAULTS: TemplateDefaults = {
  memoryMb: 1769,
  timeoutS: 900,
  arch: 'arm64',
  bucketName: '',
};

/** Prefix of intermediate job data that the lifecycle rule expires; the runtime writes under it. */
export const JOB_DATA_PREFIX = 'jobs/';

const ref = (
  name: ParameterName | ResourceName | 'AWS::Region' | 'AWS::StackName' | 'AWS::AccountId',
): CfnValue => ({
  Ref: name,
});
const getAtt = (resource: ResourceName, attribute: string): CfnValue => ({
  'Fn::GetAtt': [resource, attribute],
});
const sub = (text: string): CfnValue => ({ 'Fn::Sub': text });
const ifThen = (condition: ConditionName, then: CfnValue, otherwise: CfnValue): CfnValue => ({
  'Fn::If': [condition, then, otherwise],
});
const isEmpty = (name: ParameterName): CfnValue => ({ 'Fn::Equals': [ref(name), ''] });
const not = (condition: CfnValue): CfnValue => ({ 'Fn::Not': [condition] });

/** A role's trust policy: `service` may assume it, under `condition` when one is given. */
const trustedBy = (service: string, condition?: CfnValue): CfnValue => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sts:AssumeRole',
      ...(condition !== undefined && { Condition: condition }),
    },
  ],
});

/** The job bucket's name, whichever way it came to be. */
const jobBucket = ifThen('CreateBucket', ref('Bucket'), ref(PARAM.bucketName));
/** An ARN pattern over `${JobBucket}`: Fn::Sub's variable map lets it name the created or the existing bucket. */
const bucketArn = (pattern: string): CfnValue => ({ 'Fn::Sub': [pattern, { JobBucket: jobBucket }] });

function parameters(d: TemplateDefaults): Record<ParameterName, CfnParameter> {
  return {
    [PARAM.bucketName]: {
      Type: 'String',
      Description: 'An existing bucket for job data; empty to let the stack create one',
      Default: d.bucketName,
      AllowedPattern: '^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
    },
    [PARAM.codeBucket]: {
      Type: 'String',
      Description: 'Bucket holding the runtime zip; empty means the job bucket',
      Default: '',
    },
    [PARAM.codeKey]: {
      Type: 'String',
      Description: 'Key of the runtime zip; empty creates only the bucket and queue (first deploy)',
      Default: '',
    },
    [PARAM.memory]: {
      Type: 'Number',
      Description: 'Runtime function memory in MB (1769 MB = one vCPU)',
      Default: d.memoryMb,
      MinValue: 128,
      MaxValue: 10240,
    },
    [PARAM.timeout]: {
      Type: 'Number',
      Description: 'Runtime function timeout in seconds',
      Default: d.timeoutS,
      MinValue: 1,
      MaxValue: 900,
    },
    [PARAM.arch]: {
      Type: 'String',
      Description: 'Instruction set of the runtime function',
      Default: d.arch,
      AllowedValues: ['arm64', 'x86_64'],
    },
    [PARAM.tmpSize]: {
      Type: 'Number',
      Description: 'Size of /tmp in MB: map tasks spill and cache job bundles there',
      Default: 2048,
      MinValue: 512,
      MaxValue: 10240,
    },
    [PARAM.jobDataDays]: {
      Type: 'Number',
      Description: `Days after which intermediate data under ${JOB_DATA_PREFIX} expires`,
      Default: 7,
      MinValue: 1,
    },
    [PARAM.notifyTopics]: {
      Type: 'CommaDelimitedList',
      Description:
        'SNS topics that runs driven in the function may notify (--notify sns:...); empty for none',
      Default: '',
    },
    [PARAM.logDays]: {
      Type: 'Number',
      Description: 'Days the runtime function keeps its logs',
      Default: 30,
      // CloudWatch Logs accepts only these retention periods.
      AllowedValues: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192],
    },
  };
}

function resources(): Record<ResourceName, CfnResource<ConditionName>> {
  return {
    Bucket: {
      Type: 'AWS::S3::Bucket',
      Condition: 'CreateBucket',
      // Job outputs live here too: removing the stack must never delete them.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'expire-intermediate-job-data',
              Status: 'Enabled',
              Prefix: JOB_DATA_PREFIX,
              ExpirationInDays: ref(PARAM.jobDataDays),
            },
            {
              // A task killed mid-upload leaves parts that are billed until aborted.
              Id: 'abort-incomplete-multipart-uploads',
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
          ],
        },
      },
    },
    BucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Condition: 'CreateBucket',
      Properties: {
        Bucket: ref('Bucket'),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyPlainHttp',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [getAtt('Bucket', 'Arn'), sub('${Bucket.Arn}/*')],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    DeadLetterQueue: {
      Type: 'AWS::SQS::Queue',
      // Deleted with the stack (mr destroy warns that pending messages go with it).
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        MessageRetentionPeriod: 14 * 24 * 3600, // SQS's maximum: time to look at poison records
        SqsManagedSseEnabled: true,
      },
    },
    LogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Condition: 'HasCode',
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        LogGroupName: sub('/aws/lambda/${AWS::StackName}-runtime'),
        RetentionInDays: ref(PARAM.logDays),
      },
    },
    Role: {
      Type: 'AWS::IAM::Role',
      Condition: 'HasCode',
      Properties: {
        AssumeRolePolicyDocument: trustedBy('lambda.amazonaws.com'),
        Policies: [{ PolicyName: 'fanout-runtime', PolicyDocument: runtimePolicy() }],
      },
    },
    SchedulerRole: {
      // What `mr schedule`'s schedules run as: EventBridge Scheduler of this account may assume it,
      // and it may invoke the runtime function and nothing else.
      Type: 'AWS::IAM::Role',
      Condition: 'HasCode',
      Properties: {
        AssumeRolePolicyDocument: trustedBy('scheduler.amazonaws.com', {
          StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
        }),
        Policies: [
          {
            PolicyName: 'fanout-scheduler',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'InvokeRuntimeFunction',
                  Effect: 'Allow',
                  Action: 'lambda:InvokeFunction',
                  Resource: getAtt('Function', 'Arn'),
                },
              ],
            },
          },
        ],
      },
    },
    Function: {
      Type: 'AWS::Lambda::Function',
      Condition: 'HasCode',
      Properties: {
        // A fixed name lets the log group (which the role is scoped to) exist before the function.
        FunctionName: sub('${AWS::StackName}-runtime'),
        Description: 'Fanout runtime: runs map, reduce and stream tasks from job bundles',
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Architectures: [ref(PARAM.arch)],
        MemorySize: ref(PARAM.memory),
        Timeout: ref(PARAM.timeout),
        EphemeralStorage: { Size: ref(PARAM.tmpSize) },
        Role: getAtt('Role', 'Arn'),
        Code: {
          S3Bucket: ifThen('CodeInJobBucket', jobBucket, ref(PARAM.codeBucket)),
          S3Key: ref(PARAM.codeKey),
        },
        LoggingConfig: { LogGroup: ref('LogGroup') },
      },
    },
  };
}

/**
 * Least privilege: the job bucket, the function's own log group, itself, the DLQ, and the SNS topics
 * the stack names for notices, nothing else.
 */
function runtimePolicy(): CfnValue {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListJobBucket',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn('arn:${AWS::Partition}:s3:::${JobBucket}'),
      },
      {
        Sid: 'ReadWriteJobObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: bucketArn('arn:${AWS::Partition}:s3:::${JobBucket}/*'),
      },
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's Arn attribute ends in `:*`, which covers its log streams.
        Resource: getAtt('LogGroup', 'Arn'),
      },
      {
        // A submitted driver (`mr submit`) runs in this function: it reads the function's timeout and
        // size, and invokes it for its tasks and for the driver it hands over to. By name, as the
        // function's Arn attribute would make the role and the function depend on each other.
        Sid: 'InvokeOwnFunction',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        Resource: sub(
          'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-runtime',
        ),
      },
      // A job driven in the function (mr submit, schedules, uploads) with --notify sns:<arn>
      // publishes its notice: to the topics the stack names, and only when it names some.
      ifThen(
        'HasNotifyTopics',
        {
          Sid: 'PublishNotices',
          Effect: 'Allow',
          Action: 'sns:Publish',
          Resource: ref(PARAM.notifyTopics),
        },
        { Ref: 'AWS::NoValue' },
      ),
      {
        Sid: 'SendToDeadLetterQueue',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: getAtt('DeadLetterQueue', 'Arn'),
      },
    ],
  };
}

/**
 * Builds the Fanout CloudFormation template.
 * @example
 * JSON.stringify(buildTemplate({ ...TEMPLATE_DEFAULTS, memoryMb: 3008 }), null, 2)
 */
export function buildTemplate(defaults: TemplateDefaults = TEMPLATE_DEFAULTS): FanoutTemplate {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Fanout: serverless MapReduce runtime function, role, work bucket and dead-letter queue',
    Parameters: parameters(defaults),
    Conditions: {
      CreateBucket: isEmpty(PARAM.bucketName),
      HasCode: not(isEmpty(PARAM.codeKey)),
      CodeInJobBucket: isEmpty(PARAM.codeBucket),
      HasNotifyTopics: not({ 'Fn::Equals': [{ 'Fn::Join': ['', ref(PARAM.notifyTopics)] }, ''] }),
    },
    Resources: resources(),
    Outputs: {
      FunctionName: { Description: 'Runtime function', Value: ref('Function'), Condition: 'HasCode' },
      FunctionArn: {
        Description: 'Runtime function ARN',
        Value: getAtt('Function', 'Arn'),
        Condition: 'HasCode',
      },
      SchedulerRoleArn: {
        Description: 'Role the schedules made by mr schedule run as',
        Value: getAtt('SchedulerRole', 'Arn'),
        Condition: 'HasCode',
      },
      BucketName: { Description: 'Work bucket for job bundles and data', Value: jobBucket },
      DlqUrl: { Description: 'Dead-letter queue URL', Value: ref('DeadLetterQueue') },
      DlqArn: { Description: 'Dead-letter queue ARN', Value: getAtt('DeadLetterQueue', 'Arn') },
      Region: { Description: 'Region of the stack', Value: ref('AWS::Region') },
    },
  };
}
