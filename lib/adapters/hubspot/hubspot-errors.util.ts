import {
  CrmAuthError,
  CrmConflictError,
  CrmError,
  CrmMigrationInProgressError,
  CrmNotFoundError,
  CrmRateLimitError,
  CrmTransportError,
  CrmValidationError,
} from '../../errors/crm.error';
import {
  HUBSPOT_CATEGORY,
  HUBSPOT_EXISTING_ID_PATTERN,
  HUBSPOT_MIGRATION_STATUS,
} from './hubspot.constants';
import type { SecretRedactor } from '../../sync/redact.util';

/** HubSpot's error body; every field is optional when parsing. */
export interface HubspotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  correlationId?: string;
  policyName?: string;
  errors?: HubspotBatchErrorItem[];
  context?: Record<string, string[]>;
}

/** One entry of a 207 body's `errors`. */
export interface HubspotBatchErrorItem {
  category?: string;
  message?: string;
  context?: Record<string, string[] | undefined>;
}

export interface ErrorContext {
  method: string;
  path: string;
  correlationId?: string;
  retryAfterMs?: number;
}

/**
 * Reads an error body whatever its shape (JSON, HTML from the edge, nothing). Only the fields the
 * adapter uses are kept, each redacted and bounded: a gateway may echo the token.
 */
export function parseErrorBody(
  data: unknown,
  redactor: SecretRedactor,
): HubspotErrorBody {
  let raw: unknown = data;
  if (typeof data === 'string' && data.trim() !== '') {
    try {
      raw = JSON.parse(data);
    } catch {
      // Gateway errors arrive as HTML: keep a readable excerpt (redacted before tags are dropped,
      // so an echo split by markup is still found).
      const text = redactor
        .redact(data.slice(0, 64 * 1024))
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      return { message: redactor.excerpt(text) };
    }
  }
  if (!raw || typeof raw !== 'object') return {};
  const body = raw as Record<string, unknown>;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? redactor.excerpt(value) : undefined;
  return {
    status: text(body.status),
    message: text(body.message),
    category: text(body.category),
    correlationId: text(body.correlationId),
    policyName: text(body.policyName),
    errors: Array.isArray(body.errors)
      ? sanitizeItems(body.errors, redactor)
      : undefined,
    context: contextOf(body.context, redactor),
  };
}

function contextOf(
  value: unknown,
  redactor: SecretRedactor,
): Record<string, string[]> | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(value)) {
    if (Array.isArray(v)) out[k] = v.map((x) => redactor.excerpt(String(x)));
  }
  return out;
}

/** The `errors` of a batch body with their messages redacted and bounded. */
export function sanitizeItems(
  items: unknown[],
  redactor: SecretRedactor,
): HubspotBatchErrorItem[] {
  return items
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => ({
      category:
        typeof e.category === 'string'
          ? redactor.excerpt(e.category)
          : undefined,
      message:
        typeof e.message === 'string' ? redactor.excerpt(e.message) : undefined,
      context:
        e.context && typeof e.context === 'object'
          ? (e.context as Record<string, string[] | undefined>)
          : undefined,
    }));
}

/** The id HubSpot names in a 409 `Contact already exists. Existing ID: N`. */
export function existingIdOf(message: string | undefined): string | undefined {
  return message ? HUBSPOT_EXISTING_ID_PATTERN.exec(message)?.[1] : undefined;
}

/** Scopes a 403 `MISSING_SCOPES` body names (`requiredGranularScopes` / `requiredScopes`). */
function requiredScopesOf(body: HubspotErrorBody): string[] {
  const contexts = [
    body.context,
    ...(body.errors ?? []).map((e) => e.context as HubspotErrorBody['context']),
  ];
  const scopes = new Set<string>();
  for (const context of contexts) {
    for (const key of ['requiredGranularScopes', 'requiredScopes', 'scopes']) {
      const values = context?.[key];
      if (Array.isArray(values)) for (const v of values) scopes.add(String(v));
    }
  }
  return [...scopes];
}

/** Maps a non-2xx answer to the CrmError family. */
export function toCrmError(
  status: number,
  body: HubspotErrorBody,
  ctx: ErrorContext,
): CrmError {
  const correlationId = body.correlationId ?? ctx.correlationId;
  const detail = body.message || `HTTP ${status}`;
  const message = `HubSpot ${status}${body.category ? ` ${body.category}` : ''} on ${ctx.method} ${ctx.path}: ${detail}`;
  const init = { status, correlationId, retryAfterMs: ctx.retryAfterMs };
  if (status === 429) {
    return new CrmRateLimitError(message, { ...init, policy: body.policyName });
  }
  if (status === HUBSPOT_MIGRATION_STATUS) {
    return new CrmMigrationInProgressError(message, init);
  }
  if (status === 401 || status === 403) {
    const scopes = requiredScopesOf(body);
    return new CrmAuthError(message, {
      ...init,
      requiredScopes: scopes.length ? scopes : undefined,
    });
  }
  if (status === 404) return new CrmNotFoundError(message, init);
  if (status === 409) {
    return new CrmConflictError(message, {
      ...init,
      existingId: existingIdOf(body.message),
    });
  }
  if (status === 423) {
    return new CrmTransportError(message, { ...init, category: 'LOCKED' });
  }
  if (status >= 500) {
    return new CrmTransportError(message, { ...init, category: 'SERVER' });
  }
  if (status === 400 || status === 422) {
    return new CrmValidationError(message, init);
  }
  return new CrmError(message, { ...init, retryable: false });
}

/** Maps one error of a 207 body to the CrmError of the inputs it names. */
export function batchItemError(
  item: HubspotBatchErrorItem,
  ctx: ErrorContext,
): CrmError {
  const status =
    item.category === HUBSPOT_CATEGORY.notFound
      ? 404
      : item.category === HUBSPOT_CATEGORY.conflict ||
          existingIdOf(item.message)
        ? 409
        : 400;
  return toCrmError(
    status,
    { message: item.message, category: item.category },
    ctx,
  );
}

/** A request that got no HTTP answer (timeout, reset, refused). */
export function transportError(
  error: unknown,
  ctx: ErrorContext,
): CrmTransportError {
  const code = (error as { code?: string })?.code;
  const timedOut =
    code === 'ECONNABORTED' ||
    code === 'ETIMEDOUT' ||
    /timeout/i.test(String((error as Error)?.message));
  const what = timedOut ? 'timed out' : `failed (${code ?? 'network error'})`;
  // The axios error holds the request headers (the token): it is deliberately not kept as cause.
  return new CrmTransportError(`HubSpot ${ctx.method} ${ctx.path} ${what}`, {
    category: 'TRANSPORT',
  });
}

/** Whether a transport failure may have happened after the request reached HubSpot. */
export function mayHaveApplied(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  // Refused or unresolved: the request never left; anything else may have been applied.
  return ![
    'ECONNREFUSED',
    'ENOTFOUND',
    'EAI_AGAIN',
    'ERR_INVALID_URL',
  ].includes(code ?? '');
}
