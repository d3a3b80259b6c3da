import type { BackendProvider } from './backend.js';
import { shipBundle } from './ship-bundle.js';

/**
 * Invocations of the runtime function `mr deploy` made: the bundle is shipped to the work store once
 * and each invocation carries a pointer. The function's configuration is read first, so an attempt
 * is abandoned a little before Lambda would kill it and the run's cost can be estimated.
 */
export const awsBackend: BackendProvider = {
  name: 'aws',
  remote: true,
  async open(o) {
    const bundle = await shipBundle(o.bundle, o.work);
    // Loaded here, not at the top: local runs never load the AWS SDK.
    const { createLambdaClient, describeFunction, LambdaInvoker, DEFAULT_LAMBDA_TASK_TIMEOUT_MS } =
      await import('./lambda-invoker.js');
    const probe = createLambdaClient(1, o.region === undefined ? {} : { region: o.region });
    const lambda = await describeFunction(o.functionName, probe).finally(() => probe.destroy());
    const taskTimeoutMs = o.taskTimeoutMs ?? lambda.attemptTimeoutMs ?? DEFAULT_LAMBDA_TASK_TIMEOUT_MS;
    const invoker = new LambdaInvoker({
      functionName: o.functionName,
      bundle,
      concurrency: o.concurrency,
      ...(o.region !== undefined && { region: o.region }),
      taskTimeoutMs,
    });
    return { invoker, lambda, taskTimeoutMs };
  },
};
