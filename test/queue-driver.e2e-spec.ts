import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EtlifyConfigurationError, EtlifyModule } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';

const root = join(__dirname, '..');

/** The queue packages a fresh process loads when it boots an app on `driver`. */
async function packagesLoadedFor(driver: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      join(__dirname, 'support', 'driver-load-worker.ts'),
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        TS_NODE_PROJECT: 'tsconfig.json',
        QUEUE_DRIVER: driver,
      },
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout);
}

describe('queue.driver', () => {
  it.each([
    ['bull', ['@nestjs/bull', 'bull']],
    ['bullmq', ['@nestjs/bullmq', 'bullmq']],
  ])(
    'loads only the packages of the configured driver (%s)',
    async (driver, expected) => {
      const loaded = await packagesLoadedFor(driver);
      // @nestjs/bull and @nestjs/bullmq share @nestjs/bull-shared; that is not a driver.
      expect(loaded.filter((name) => name !== '@nestjs/bull-shared')).toEqual(
        expected,
      );
    },
    60_000,
  );

  it('an unknown driver fails at boot, naming the two it takes', () => {
    expect(() =>
      EtlifyModule.forRoot({
        crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }],
        queue: { name: 'etlify', driver: 'kafka' as never },
      }),
    ).toThrow(EtlifyConfigurationError);
    expect(() =>
      EtlifyModule.forRoot({
        crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }],
        queue: { name: 'etlify', driver: 'kafka' as never },
      }),
    ).toThrow('queue.driver must be "bull" or "bullmq", got "kafka"');
  });
});
