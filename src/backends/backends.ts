import { UsageError } from '../errors.js';
import { simBackend } from '../sim/sim-backend.js';
import { awsBackend } from './aws-backend.js';
import type { BackendProvider } from './backend.js';
import { localBackend } from './local-backend.js';

/** Every backend by name: the one place a backend is chosen. */
export const BACKENDS: ReadonlyMap<string, BackendProvider> = new Map(
  [localBackend, awsBackend, simBackend].map((b) => [b.name, b]),
);

export { type BackendName, DEFAULT_BACKEND } from './backend.js';

/** The runtime function `mr deploy` makes, which remote backends invoke. */
export const DEFAULT_FUNCTION_NAME = 'fanout-runtime';

/** Where job state, bundles and stream checkpoints go unless told otherwise, locally. */
export const DEFAULT_WORK_DIR = '.fanout';

/** The backend of a name. @throws {UsageError} naming the value received and the names known. */
export function backendNamed(name: string): BackendProvider {
  const backend = BACKENDS.get(name);
  if (!backend) {
    throw new UsageError(
      `backend must be one of ${[...BACKENDS.keys()].join(', ')}, got ${JSON.stringify(name)}`,
    );
  }
  return backend;
}
