import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.js';

const d = tempDir('deploy-cli');
afterAll(() => d.cleanup());

/**
 * Runs the built CLI with no AWS settings at all: no AWS_* variables, a HOME without ~/.aws, and the
 * config and credentials files pointed at nothing, so no real credentials can be found or used.
 */
const mr = (args: string[]) => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const r = spawnSync(process.execPath, [resolve('bin/mr.js'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['pipe', 'pipe', 'pipe'], // stdin is not a terminal
    env: {
      ...env,
      HOME: d.path,
      AWS_CONFIG_FILE: join(d.path, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(d.path, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('mr deploy --print-template', () => {
  it('prints the template as JSON and exits 0 without any AWS configuration', () => {
    const r = mr(['deploy', '--print-template']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const template = JSON.parse(r.stdout) as {
      Resources: Record<string, { Type: string }>;
      Outputs: Record<string, unknown>;
    };
    expect(template.Resources.Function?.Type).toBe('AWS::Lambda::Function');
    expect(Object.keys(template.Outputs)).toContain('FunctionArn');
  });

  it('bakes flag values into the parameter defaults', () => {
    const r = mr(['deploy', '--print-template', '--memory', '3008', '--arch', 'x86_64', '--timeout', '600']);
    expect(r.code).toBe(0);
    const params = (JSON.parse(r.stdout) as { Parameters: Record<string, { Default: unknown }> }).Parameters;
    expect([params.MemorySize?.Default, params.Architecture?.Default, params.Timeout?.Default]).toEqual([
      3008,
      'x86_64',
      600,
    ]);
  });
});

describe('bad flags', () => {
  it.each([
    [['deploy', '--arch', 'sparc'], 'mr: invalid value "sparc" for --arch: expected arm64 or x86_64\n'],
    [
      ['deploy', '--memory', 'big'],
      'mr: invalid value "big" for --memory: expected a positive whole number\n',
    ],
    [['deploy', '--memory', '64'], 'mr: --memory must be 128 to 10240 MB, got 64\n'],
    [['deploy', '--timeout', '901', '--print-template'], 'mr: --timeout must be 1 to 900 s, got 901\n'],
  ])('mr %j exits 2 with one line', (args, message) => {
    const r = mr(args);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: message });
  });
});

describe('mr destroy', () => {
  it('refuses without --yes when stdin is not a terminal, and exits 2', () => {
    const r = mr(['destroy', '--stack-name', 'fanout-test']);
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'mr: refusing to delete stack fanout-test without confirmation: pass --yes when not on a terminal\n',
    });
  });
});
