import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';

/**
 * Invokes a function asynchronously (InvocationType Event: Lambda queues the event and answers 202)
 * with `payload` as JSON: how a driver starts in the runtime function. The SDK honours
 * `AWS_ENDPOINT_URL_LAMBDA`. `client` is used as it is and left open; without one, a client is made
 * from `config` and destroyed after.
 */
export async function invokeAsync(
  functionName: string,
  payload: unknown,
  o: { config?: LambdaClientConfig; client?: LambdaClient; qualifier?: string } = {},
): Promise<void> {
  const client = o.client ?? new LambdaClient({ maxAttempts: 5, ...o.config });
  try {
    await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        ...(o.qualifier === undefined ? {} : { Qualifier: o.qualifier }),
        InvocationType: 'Event',
        Payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8'),
      }),
    );
  } finally {
    if (!o.client) client.destroy();
  }
}
