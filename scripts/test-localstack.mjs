// `npm run test:localstack`: the AWS backend's integration scenarios against LocalStack in Docker.
// Where no container runtime answers (as on this project's machines), it says so in one line and
// exits 0, so the command is safe to run anywhere.
import { spawnSync } from 'node:child_process';
import { getContainerRuntimeClient } from 'testcontainers';

try {
  await getContainerRuntimeClient();
} catch (err) {
  console.log(`LocalStack suite skipped: no container runtime (${err instanceof Error ? err.message : err})`);
  process.exit(0);
}
const run = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.localstack.config.ts'], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
