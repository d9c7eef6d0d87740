/** Broad kind of a CRM failure, independent of the CRM. */
export type CrmErrorCategory =
  | 'RATE_LIMIT'
  | 'AUTHENTICATION'
  | 'NOT_FOUND'
  | 'VALIDATION'
  | 'CONFLICT'
  | 'LOCKED'
  | 'SERVER'
  | 'TRANSPORT'
  | 'UNKNOWN'
  | string;

export interface CrmErrorInit {
  status?: number;
  category?: CrmErrorCategory;
  correlationId?: string;
  retryable?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

/** A failure reported by (or on the way to) a CRM. Messages never carry credentials. */
export class CrmError extends Error {
  readonly status?: number;
  readonly category: CrmErrorCategory;
  readonly correlationId?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(message: string, init: CrmErrorInit = {}) {
    super(message);
    this.name = new.target.name;
    this.status = init.status;
    this.category = init.category ?? 'UNKNOWN';
    this.correlationId = init.correlationId;
    this.retryable = init.retryable ?? false;
    this.retryAfterMs = init.retryAfterMs;
    if (init.cause !== undefined) {
      Object.defineProperty(this, 'cause', {
        value: init.cause,
        enumerable: false,
      });
    }
  }
}

/** 429: `policy` is the CRM's policy name (HubSpot: TEN_SECONDLY_ROLLING, SECONDLY, DAILY). */
export class CrmRateLimitError extends CrmError {
  readonly policy?: string;
  constructor(message: string, init: CrmErrorInit & { policy?: string } = {}) {
    super(message, {
      status: 429,
      category: 'RATE_LIMIT',
      retryable: init.policy !== 'DAILY',
      ...init,
    });
    this.policy = init.policy;
  }
}

/** 401/403: bad, expired or under-scoped credentials. Never retried. */
export class CrmAuthError extends CrmError {
  /** Scopes the CRM said the call needs (HubSpot 403 `MISSING_SCOPES`), when it said so. */
  readonly requiredScopes?: string[];
  constructor(
    message: string,
    init: CrmErrorInit & { requiredScopes?: string[] } = {},
  ) {
    super(message, { category: 'AUTHENTICATION', retryable: false, ...init });
    this.requiredScopes = init.requiredScopes;
  }
}

export class CrmNotFoundError extends CrmError {
  constructor(message: string, init: CrmErrorInit = {}) {
    super(message, {
      status: 404,
      category: 'NOT_FOUND',
      retryable: false,
      ...init,
    });
  }
}

/** One property of a payload that breaks a rule of the CRM's schema. */
export interface CrmPropertyProblem {
  property: string;
  /** `UNKNOWN_PROPERTY`, `READ_ONLY`, `INVALID_OPTION`, `NOT_A_NUMBER`, … (see the README). */
  rule: string;
  message: string;
}

/**
 * The CRM refused the payload (unknown property, bad option, blank id property…), or the adapter
 * did before sending it: then `property` and `rule` name the first problem and `problems` lists all.
 */
export class CrmValidationError extends CrmError {
  readonly property?: string;
  readonly rule?: string;
  readonly problems?: CrmPropertyProblem[];

  constructor(
    message: string,
    init: CrmErrorInit & { problems?: CrmPropertyProblem[] } = {},
  ) {
    const { problems, ...rest } = init;
    super(message, {
      status: 400,
      category: 'VALIDATION',
      retryable: false,
      ...rest,
    });
    if (problems?.length) {
      this.problems = problems;
      this.property = problems[0].property;
      this.rule = problems[0].rule;
    }
  }
}

/** The record already exists; `existingId` is set when the CRM names it. */
export class CrmConflictError extends CrmError {
  readonly existingId?: string;
  constructor(
    message: string,
    init: CrmErrorInit & { existingId?: string } = {},
  ) {
    super(message, {
      status: 409,
      category: 'CONFLICT',
      retryable: false,
      ...init,
    });
    this.existingId = init.existingId;
  }
}

/** Network failure, timeout, reset, or a 5xx/423 after the retry budget. */
export class CrmTransportError extends CrmError {
  constructor(message: string, init: CrmErrorInit = {}) {
    super(message, { category: 'TRANSPORT', retryable: true, ...init });
  }
}

/**
 * The CRM cannot take calls for a while for a reason that is not ours (HubSpot 477 "Migration in
 * progress"): waited out like a rate limit, never counted toward dead letters.
 */
export class CrmMigrationInProgressError extends CrmRateLimitError {
  constructor(message: string, init: CrmErrorInit = {}) {
    super(message, {
      status: 477,
      category: 'MIGRATION_IN_PROGRESS',
      policy: 'MIGRATION_IN_PROGRESS',
      retryable: true,
      ...init,
    });
  }
}

/**
 * A write that is not safe to repeat (a create) failed in a way that leaves open whether the CRM
 * applied it (timeout, reset, 5xx, a 2xx without a usable body). It is never retried blindly: the
 * adapter settles it first (reads it back by key once the CRM's search has caught up).
 * `retryable` says whether a later attempt can settle it; `retryAfterMs` is when.
 */
export class CrmAmbiguousWriteError extends CrmTransportError {
  readonly ambiguous = true;
  constructor(message: string, init: CrmErrorInit = {}) {
    super(message, { category: 'AMBIGUOUS', ...init });
  }
}
