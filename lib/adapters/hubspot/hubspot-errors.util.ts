import {
  CrmAuthError,
  CrmConflictError,
  CrmError,
  CrmNotFoundError,
  CrmRateLimitError,
  CrmTransportError,
  CrmValidationError,
} from '../../errors/crm.error';
import {
  HUBSPOT_CATEGORY,
  HUBSPOT_EXISTING_ID_PATTERN,
} from './hubspot.constants';

/** HubSpot's error body; every field is optional when parsing. */
export interface HubspotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  correlationId?: string;
  policyName?: string;
  errors?: Array<{ message?: string; code?: string; context?: unknown }>;
  context?: Record<string, string[]>;
}

/** One entry of a 207 body's `errors`. */
export interface HubspotBatchErrorItem {
  status?: string;
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

const MAX_TEXT_BODY = 200;

/** Reads an error body whatever its shape (JSON, HTML from the edge, nothing). */
export function parseErrorBody(data: unknown): HubspotErrorBody {
  if (data && typeof data === 'object') return data as HubspotErrorBody;
  if (typeof data === 'string' && data.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed && typeof parsed === 'object')
        return parsed as HubspotErrorBody;
    } catch {
      // Gateway errors arrive as HTML: keep a readable excerpt.
    }
    const text = data
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return { message: text.slice(0, MAX_TEXT_BODY) };
  }
  return {};
}

/** The id HubSpot names in a 409 `Contact already exists. Existing ID: N`. */
export function existingIdOf(message: string | undefined): string | undefined {
  return message ? HUBSPOT_EXISTING_ID_PATTERN.exec(message)?.[1] : undefined;
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
  if (status === 401 || status === 403) return new CrmAuthError(message, init);
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

/** Removes every occurrence of `secret` from a message. */
export function redact(message: string, secret: string): string {
  return secret ? message.split(secret).join('[redacted]') : message;
}
