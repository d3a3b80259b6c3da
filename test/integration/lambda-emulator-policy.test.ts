/**
 * The Lambda emulator's resource-based policy API, which serverless-offline lacks, driven by the
 * real `@aws-sdk/client-lambda`: AddPermission, GetPolicy and RemovePermission with Lambda's error
 * names, by function name and by ARN, per qualifier. Needs dist/infra/function-handler.js.
 */
import {
  AddPermissionCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  LambdaClient,
  PreconditionFailedException,
  RemovePermissionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaEmulator, startLambdaEmulator } from '../../src/dev/lambda-emulator.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fanout-runtime';
const RULE_ARN = 'arn:aws:events:us-east-1:000000000000:rule/new-uploads';

let lambda: LambdaEmulator;
let client: LambdaClient;

beforeAll(async () => {
  lambda = await startLambdaEmulator({ functions: [{ name: 'fanout-runtime' }, { name: 'other' }] });
  client = new LambdaClient({
    endpoint: lambda.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'dev', secretAccessKey: 'dev' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await lambda?.stop();
});

interface Policy {
  Version: string;
  Id: string;
  Statement: Record<string, unknown>[];
}

async function policy(FunctionName: string, Qualifier?: string): Promise<{ doc: Policy; revision: string }> {
  const got = await client.send(new GetPolicyCommand({ FunctionName, Qualifier }));
  return { doc: JSON.parse(got.Policy ?? '') as Policy, revision: got.RevisionId ?? '' };
}

describe('lambda emulator resource policy', () => {
  it('has no policy until a permission is added', async () => {
    await expect(client.send(new GetPolicyCommand({ FunctionName: 'other' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('adds, reads and removes permissions, by name and by ARN', async () => {
    const added = await client.send(
      new AddPermissionCommand({
        FunctionName: 'fanout-runtime',
        StatementId: 'events-new-uploads',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: RULE_ARN,
      }),
    );
    const statement = {
      Sid: 'events-new-uploads',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: FUNCTION_ARN,
      Condition: { ArnLike: { 'AWS:SourceArn': RULE_ARN } },
    };
    expect(JSON.parse(added.Statement ?? '')).toEqual(statement);

    const first = await policy('fanout-runtime');
    expect(first.doc).toEqual({ Version: '2012-10-17', Id: 'default', Statement: [statement] });
    expect(first.revision).not.toBe('');

    await client.send(
      new AddPermissionCommand({
        FunctionName: FUNCTION_ARN,
        StatementId: 's3-account',
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
        SourceAccount: '000000000000',
        SourceArn: 'arn:aws:s3:::uploads',
        RevisionId: first.revision,
      }),
    );
    const second = await policy(FUNCTION_ARN);
    expect(second.revision).not.toBe(first.revision);
    expect(second.doc.Statement.map((s) => s.Sid)).toEqual(['events-new-uploads', 's3-account']);
    expect(second.doc.Statement[1]).toMatchObject({
      Principal: { Service: 's3.amazonaws.com' },
      Condition: {
        StringEquals: { 'AWS:SourceAccount': '000000000000' },
        ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::uploads' },
      },
    });

    await client.send(
      new RemovePermissionCommand({ FunctionName: 'fanout-runtime', StatementId: 's3-account' }),
    );
    expect((await policy('fanout-runtime')).doc.Statement.map((s) => s.Sid)).toEqual(['events-new-uploads']);
    await client.send(
      new RemovePermissionCommand({ FunctionName: FUNCTION_ARN, StatementId: 'events-new-uploads' }),
    );
    await expect(
      client.send(new GetPolicyCommand({ FunctionName: 'fanout-runtime' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses a statement id twice, and removing one that is absent', async () => {
    const grant = new AddPermissionCommand({
      FunctionName: 'other',
      StatementId: 'twice',
      Action: 'lambda:InvokeFunction',
      Principal: '123456789012',
    });
    await client.send(grant);
    await expect(client.send(grant)).rejects.toBeInstanceOf(ResourceConflictException);
    expect((await policy('other')).doc.Statement[0]?.Principal).toEqual({
      AWS: 'arn:aws:iam::123456789012:root',
    });
    await expect(
      client.send(new RemovePermissionCommand({ FunctionName: 'other', StatementId: 'never' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await client.send(new RemovePermissionCommand({ FunctionName: 'other', StatementId: 'twice' }));
  });

  it('refuses a stale RevisionId', async () => {
    await expect(
      client.send(
        new AddPermissionCommand({
          FunctionName: 'other',
          StatementId: 'stale',
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          RevisionId: 'not-the-revision',
        }),
      ),
    ).rejects.toBeInstanceOf(PreconditionFailedException);
  });

  it('keeps a qualified policy apart from the unqualified one', async () => {
    await client.send(
      new AddPermissionCommand({
        FunctionName: 'other',
        Qualifier: 'live',
        StatementId: 'alias-only',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
      }),
    );
    const live = await policy('other', 'live');
    expect(live.doc.Statement).toMatchObject([
      { Sid: 'alias-only', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:other:live' },
    ]);
    await expect(client.send(new GetPolicyCommand({ FunctionName: 'other' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('answers ResourceNotFoundException for a function it does not serve', async () => {
    await expect(
      client.send(
        new AddPermissionCommand({
          FunctionName: 'missing',
          StatementId: 'x',
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new GetPolicyCommand({ FunctionName: 'missing' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('still answers GetFunctionConfiguration', async () => {
    const got = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fanout-runtime' }));
    expect(got.FunctionArn).toBe(FUNCTION_ARN);
  });
});
