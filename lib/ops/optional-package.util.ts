import { createRequire } from 'node:module';
import { join } from 'node:path';

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
