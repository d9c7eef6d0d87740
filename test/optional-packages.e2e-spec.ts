import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..');
const OPTIONAL = [
  'bull',
  '@nestjs/bull',
  '@nestjs/bullmq',
  'bullmq',
  '@nestjs/schedule',
];

/** Boots the worker app in a fresh process where `hidden` are not installed; returns what it printed. */
async function bootWithout(
  hidden: string[],
  sweep: boolean,
): Promise<{ records?: string[]; error?: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '-r',
      join(__dirname, 'support', 'hide-packages.hook.js'),
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      join(__dirname, 'support', 'optional-packages-worker.ts'),
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        TS_NODE_PROJECT: 'tsconfig.json',
        HIDE_PACKAGES: hidden.join(','),
        SWEEP: sweep ? '1' : '',
      },
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout);
}

describe('optional packages', () => {
  it('an app with queue: false and no sweeper boots and syncs without Bull, BullMQ or @nestjs/schedule', async () => {
    await expect(bootWithout(OPTIONAL, false)).resolves.toEqual({
      records: ['a@x.io'],
    });
  }, 60_000);

  it('the sweeper without @nestjs/schedule fails the boot naming the install command', async () => {
    await expect(bootWithout(['@nestjs/schedule'], true)).resolves.toEqual({
      error:
        'EtlifyConfigurationError: EtlifyModule option staleSweep needs @nestjs/schedule, which is not installed: npm install @nestjs/schedule',
    });
  }, 60_000);

  it('the sweeper boots and syncs when @nestjs/schedule is installed', async () => {
    await expect(bootWithout([], true)).resolves.toEqual({
      records: ['a@x.io'],
    });
  }, 60_000);
});
