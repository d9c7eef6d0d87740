import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { EtlifyQueueDriver } from '../interfaces/etlify-options.interface';
import { missingPackageError } from '../ops/optional-package.util';

export const QUEUE_DRIVERS: readonly EtlifyQueueDriver[] = ['bull', 'bullmq'];

/** What each driver needs installed; only the configured one is ever loaded. */
export const QUEUE_DRIVER_PACKAGES: Record<EtlifyQueueDriver, string[]> = {
  bull: ['@nestjs/bull', 'bull'],
  bullmq: ['@nestjs/bullmq', 'bullmq', 'ioredis'],
};

/** The driver a queue option names; a wrong one fails at boot with the values it may take. */
export function queueDriverOf(queue: { driver?: unknown }): EtlifyQueueDriver {
  const driver = queue.driver ?? 'bull';
  if (!QUEUE_DRIVERS.includes(driver as EtlifyQueueDriver)) {
    throw new EtlifyConfigurationError(
      `EtlifyModule option queue.driver must be "bull" or "bullmq", got ${JSON.stringify(driver)}`,
    );
  }
  return driver as EtlifyQueueDriver;
}

const NOT_FOUND = new Set(['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND']);

/**
 * Loads a package of the configured driver with `import()`, which both builds can use: the
 * CommonJS one compiles it to `require`, the ES module one keeps it (a Jest in ESM mode or vitest
 * app may only be able to `import` it). A missing package fails the boot naming the install command.
 */
export async function loadDriverPackage<T>(
  driver: EtlifyQueueDriver,
  name: string,
): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code && NOT_FOUND.has(code) && String(message).includes(name)) {
      throw missingPackageError(
        `queue driver "${driver}"`,
        name,
        QUEUE_DRIVER_PACKAGES[driver],
      );
    }
    throw error;
  }
}

/** An export of a package loaded by `import()`: a CommonJS package may sit under `default`. */
export function exportOf<T>(module: unknown, name: string): T {
  const record = module as Record<string, unknown> & {
    default?: Record<string, unknown>;
  };
  const value = record[name] ?? record.default?.[name];
  if (value === undefined)
    throw new Error(`the package loaded has no export "${name}"`);
  return value as T;
}
