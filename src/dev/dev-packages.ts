import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';

/** The command that installs every emulator `mr dev` starts (fauxqs 2.x needs Node 22). */
export const EMULATOR_INSTALL = 'npm install --save-dev s3rver serverless-offline kinesalite fauxqs@1.9';

const require = createRequire(import.meta.url);

/** Whether `err` says that package `name` itself (not something inside it) could not be found. */
function isMissing(err: unknown, name: string): boolean {
  if (!(err instanceof Error)) return false;
  const code = 'code' in err ? err.code : undefined;
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    (err.message.includes(`'${name}'`) || err.message.includes(`'${name}/`))
  );
}

/** The one-line error `mr` prints when emulator packages are not installed (exit 2). */
export function missingPackagesError(names: readonly string[]): UsageError {
  return new UsageError(
    `the local AWS stack needs dev packages that are not installed (${names.join(', ')}): run ${EMULATOR_INSTALL}`,
  );
}

/**
 * Resolves a CommonJS emulator module from this package, as `require.resolve` does.
 * @throws {UsageError} naming the install command when the package is missing.
 */
export function resolveDevModule(specifier: string, name = specifier): string {
  try {
    return require.resolve(specifier);
  } catch (err) {
    if (isMissing(err, name)) throw missingPackagesError([name]);
    throw err;
  }
}

/**
 * Loads an emulator package on first use: they are dev dependencies, absent from a production install.
 * @throws {UsageError} naming the install command when the package is missing.
 */
export async function loadDevModule<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissing(err, name)) throw missingPackagesError([name]);
    throw err;
  }
}

/** Loads a CommonJS emulator package (these ship no types; the caller states the shape it uses). */
export function requireDevModule<T>(name: string): T {
  return require(resolveDevModule(name)) as T;
}

/**
 * Checks every emulator package before anything starts, so a missing one is reported together with
 * the others instead of after half the stack is up.
 * @throws {UsageError} listing the missing packages and the install command.
 */
export async function checkEmulatorPackages(
  probe: (name: string) => Promise<void> = defaultProbe,
): Promise<void> {
  const missing: string[] = [];
  for (const name of ['s3rver', 'serverless-offline', 'kinesalite', 'fauxqs']) {
    try {
      await probe(name);
    } catch (err) {
      if (err instanceof UsageError || isMissing(err, name)) missing.push(name);
      else throw err;
    }
  }
  if (missing.length > 0) throw missingPackagesError(missing);
}

async function defaultProbe(name: string): Promise<void> {
  // fauxqs is ESM only (no `require` export condition), so it is found by importing it.
  if (name === 'fauxqs') await import('fauxqs');
  else require.resolve(name === 'serverless-offline' ? 'serverless-offline/lambda' : name);
}
