import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { UsageError } from '../errors.js';
import { awsCall } from '../infra/stack-operations.js';

/** The runtime function's ARN: the target of schedules and upload rules. */
export async function functionArnOf(functionName: string, region: { region?: string }): Promise<string> {
  const lambda = new LambdaClient(region);
  try {
    const config = await awsCall(`Lambda GetFunctionConfiguration ${functionName}`, () =>
      lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName })),
    );
    if (!config.FunctionArn)
      throw new UsageError(`function ${functionName} has no ARN: is it deployed (mr deploy)?`);
    return config.FunctionArn;
  } finally {
    lambda.destroy();
  }
}
