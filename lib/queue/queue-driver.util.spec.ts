import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import { loadDriverPackage, queueDriverOf } from './queue-driver.util';

describe('queue driver', () => {
  it('defaults to bull and accepts bullmq', () => {
    expect(queueDriverOf({})).toBe('bull');
    expect(queueDriverOf({ driver: 'bullmq' })).toBe('bullmq');
  });

  it('refuses another driver, naming the two it takes', () => {
    expect(() => queueDriverOf({ driver: 'kafka' })).toThrow(
      EtlifyConfigurationError,
    );
    expect(() => queueDriverOf({ driver: 'kafka' })).toThrow(
      'queue.driver must be "bull" or "bullmq", got "kafka"',
    );
  });

  it('a package of the driver that is not installed fails naming the install command', async () => {
    await expect(
      loadDriverPackage('bullmq', 'etlify-no-such-package'),
    ).rejects.toThrow(
      'EtlifyModule queue driver "bullmq" needs etlify-no-such-package, which is not installed: npm install @nestjs/bullmq bullmq ioredis',
    );
    await expect(
      loadDriverPackage('bull', 'etlify-no-such-package'),
    ).rejects.toThrow('npm install @nestjs/bull bull');
  });

  it('loads an installed one', async () => {
    const bullmq = await loadDriverPackage<{ Worker: unknown }>(
      'bullmq',
      'bullmq',
    );
    expect(typeof bullmq.Worker).toBe('function');
  });
});
