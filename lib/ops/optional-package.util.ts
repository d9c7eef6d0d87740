/**
 * Loads an optional peer dependency, or returns undefined when it is not installed. Only a missing
 * package counts as absent: an error thrown while loading an installed one is rethrown.
 */
export function loadOptionalPackage<T>(name: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
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
