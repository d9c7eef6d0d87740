import type { IncomingMessage } from 'node:http';
import type { SandboxHttpError } from './sandbox-errors';
import type { SandboxRatePolicy } from './sandbox-options.interface';
import { rateLimitMessage } from './sandbox-rate-limiter';
import type { RouteResponse } from './sandbox-routes';

/* Answers the server plays itself (faults, limits, auth), outside the API handlers. */

/** POSIX-style zone name of a whole-hour offset (`Etc/GMT+8` is UTC-8), else `UTC±HH:MM`. */
export function fixedZoneName(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'UTC';
  if (offsetMinutes % 60 === 0) {
    const hours = -offsetMinutes / 60;
    return `Etc/GMT${hours > 0 ? '+' : ''}${hours}`;
  }
  const abs = Math.abs(offsetMinutes);
  return `UTC${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function migrationInProgress(): RouteResponse {
  return {
    status: 477,
    body: {
      status: 'error',
      message:
        'Migration in progress: this portal is being moved between data centres. Retry after the time given in Retry-After.',
      category: 'MIGRATION_IN_PROGRESS',
    },
  };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export function errorResponse(error: SandboxHttpError): RouteResponse {
  return { status: error.status, body: error.body };
}

export function rateLimited(policy: SandboxRatePolicy): RouteResponse {
  return {
    status: 429,
    body: {
      status: 'error',
      message: rateLimitMessage(policy),
      errorType: 'RATE_LIMIT',
      policyName: policy,
    },
  };
}

export function faultResponse(
  kind: '500' | '502' | '503' | '504' | '423',
): RouteResponse {
  switch (kind) {
    case '500':
      return {
        status: 500,
        body: {
          status: 'error',
          message: 'internal error',
          category: 'INTERNAL_ERROR',
        },
      };
    case '502':
      // Gateway errors come from HubSpot's edge as HTML, not JSON: clients must cope.
      return {
        status: 502,
        body: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
      };
    case '504':
      return {
        status: 504,
        body: '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>',
      };
    case '503':
      return {
        status: 503,
        body: {
          status: 'error',
          message: 'Service Unavailable',
          category: 'SERVICE_UNAVAILABLE',
        },
      };
    default:
      return {
        status: 423,
        body: {
          status: 'error',
          message:
            'The object is locked by another write; retry in about 2 seconds.',
          category: 'LOCKED',
        },
      };
  }
}
