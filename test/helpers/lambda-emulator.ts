import {
  type EmulatedFunction,
  type LambdaEmulator,
  RUNTIME_HANDLER,
  startLambdaEmulator as startEmulator,
} from '../../src/dev/lambda-emulator.js';

export { type EmulatedFunction, type LambdaEmulator, RUNTIME_HANDLER };

/**
 * Starts serverless-offline's Lambda Invoke API on loopback serving `functions` (see src/dev).
 * Handlers get no AWS settings or credentials of this process.
 */
export function startLambdaEmulator(
  functions: EmulatedFunction[] = [{ name: 'fanout-runtime' }],
): Promise<LambdaEmulator> {
  return startEmulator({ functions });
}
