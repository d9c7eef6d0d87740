/** Strips anything credential-shaped from a message before it is stored or logged. */
export function redactSecrets(message: string): string {
  return message
    .replace(/(bearer\s+)[^\s"',]+/gi, '$1[redacted]')
    .replace(/\bpat-[a-z0-9]+-[0-9a-f-]{8,}\b/gi, '[redacted]')
    .replace(/(access_?token["'=:\s]+)[^\s"',&]+/gi, '$1[redacted]');
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error)
    return redactSecrets(`${error.name}: ${error.message}`);
  return redactSecrets(String(error));
}
