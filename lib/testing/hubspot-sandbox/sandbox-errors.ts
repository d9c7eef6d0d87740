/** Body of a HubSpot error; `correlationId` is filled in when the answer is sent. */
export interface SandboxErrorBody {
  status: 'error';
  message: string;
  category?: string;
  correlationId?: string;
  errors?: SandboxErrorDetail[];
  context?: Record<string, string[]>;
  [extra: string]: unknown;
}

export interface SandboxErrorDetail {
  message: string;
  code?: string;
  context?: Record<string, string[]>;
  [extra: string]: unknown;
}

/** Thrown by handlers; the server turns it into the HTTP answer. */
export class SandboxHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: SandboxErrorBody,
  ) {
    super(body.message);
  }
}

export function validationError(
  message: string,
  errors?: SandboxErrorDetail[],
): SandboxHttpError {
  return new SandboxHttpError(400, {
    status: 'error',
    message,
    category: 'VALIDATION_ERROR',
    ...(errors ? { errors } : {}),
  });
}

/** A per-property problem, shaped like HubSpot's "Property values were not valid" details. */
export interface PropertyProblem {
  name: string;
  code: string;
  message: string;
  /** 409 conflicts travel as their own error, not as a property problem. */
  conflictId?: string;
}

export function propertyValidationError(
  problems: PropertyProblem[],
): SandboxHttpError {
  // HubSpot embeds the problem list as JSON in the message and repeats it in `errors`.
  const embedded = problems.map((p) => ({
    isValid: false,
    message: p.message,
    error: p.code,
    name: p.name,
    localizedErrorMessage: p.message,
  }));
  return validationError(
    `Property values were not valid: ${JSON.stringify(embedded)}`,
    problems.map((p) => ({
      message: p.message,
      code: p.code,
      context: { propertyName: [p.name] },
    })),
  );
}

export function contactConflict(existingId: string): SandboxHttpError {
  return new SandboxHttpError(409, {
    status: 'error',
    message: `Contact already exists. Existing ID: ${existingId}`,
    category: 'CONFLICT',
  });
}

export function notFound(message = 'resource not found'): SandboxHttpError {
  return new SandboxHttpError(404, {
    status: 'error',
    message,
    category: 'OBJECT_NOT_FOUND',
  });
}

export function unauthorized(): SandboxHttpError {
  return new SandboxHttpError(401, {
    status: 'error',
    message:
      'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    category: 'INVALID_AUTHENTICATION',
  });
}

export function routeNotFound(method: string, path: string): SandboxHttpError {
  return new SandboxHttpError(404, {
    status: 'error',
    message: `Unable to route ${method} ${path}`,
    category: 'OBJECT_NOT_FOUND',
  });
}
