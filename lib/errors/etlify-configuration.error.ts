/** Thrown at boot for a configuration mistake; the message names the culprit and the fix. */
export class EtlifyConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EtlifyConfigurationError';
  }
}
