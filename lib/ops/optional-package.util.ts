import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';

/**
 * Loads an optional peer dependency, or returns undefined when it is not installed. Only a missing
 * package counts as absent: an error thrown while loading an installed one is rethrown.
 */
export function loadOptionalPackage<T>(name: string): T | undefined {
  try {
    // Resolved from the app's root, where its peers are installed; createRequire works in both builds
    // (the ES module one has no bare `require`) and loads ES module packages too (Node >= 20.19).
    return createRequire(join(process.cwd(), 'package.json'))(name) as T;
  } catch (error) {
    const code = (error as { code?: string })?.code;
    if (
      code === 'MODULE_NOT_FOUND' &&
      String((error as Error).message).includes(`'${name}'`)
    )
      return undefined;
    throw error;
  }
}

/** The boot error of a configured feature whose package is not installed (one wording everywhere). */
export function missingPackageError(
  feature: string,
  name: string,
  install: string[] = [name],
): EtlifyConfigurationError {
  return new EtlifyConfigurationError(
    `EtlifyModule ${feature} needs ${name}, which is not installed: npm install ${install.join(' ')}`,
  );
}

/** Loads the package a configured feature needs; a missing one fails the boot naming the install command. */
export function requireOptionalPackage<T>(name: string, feature: string): T {
  const loaded = loadOptionalPackage<T>(name);
  if (loaded === undefined) throw missingPackageError(feature, name);
  return loaded;
}
