import { SandboxHttpError } from './sandbox-errors';
import type { ParsedApiPath } from './sandbox-api-path.util';

const STANDARD_SCOPE_TYPES = new Set(['contacts', 'companies', 'deals']);

/**
 * The private-app scope a call needs (HubSpot's granular names), or undefined when none is
 * modelled. Custom objects share `crm.objects.custom.*` / `crm.schemas.custom.*`.
 */
export function requiredScope(
  method: string,
  parsed: ParsedApiPath | undefined,
  canonicalType: (raw: string) => string,
): string | undefined {
  if (!parsed || parsed.rest.length === 0) return undefined;
  if (parsed.api === 'account-info') return undefined;
  const type = canonicalType(parsed.rest[0]);
  const reads =
    method === 'GET' ||
    (method === 'POST' &&
      /^(search|read)$/.test(parsed.rest[parsed.rest.length - 1]));
  const access = reads ? 'read' : 'write';
  // Tickets predate granular scopes: one `tickets` scope covers them.
  if (type === 'tickets') return 'tickets';
  const name = STANDARD_SCOPE_TYPES.has(type) ? type : 'custom';
  if (parsed.api === 'properties') return `crm.schemas.${name}.${access}`;
  return `crm.objects.${name}.${access}`;
}

/** 403 MISSING_SCOPES as HubSpot answers it, naming the granular scope. */
export function missingScopes(scope: string): SandboxHttpError {
  return new SandboxHttpError(403, {
    status: 'error',
    message:
      "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    category: 'MISSING_SCOPES',
    errors: [
      {
        message: 'One or more of the following scopes are required.',
        context: { requiredGranularScopes: [scope] },
      },
    ],
    links: { scopes: 'https://developers.hubspot.com/scopes' },
  });
}
