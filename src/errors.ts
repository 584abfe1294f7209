/**
 * Errors of the whole program, and the one table of Twilio error codes.
 *
 * Layers below the HTTP edge throw these; only `http/error-handler.ts` turns them into a
 * `RestException` body. Codes and messages follow Twilio's published error dictionary
 * (https://www.twilio.com/docs/api/errors): 20003 Authenticate, 20004 Method not allowed,
 * 20404 Not found, 20001 invalid parameter, 21220 invalid call state, 16020 conference full,
 * 20503 Service unavailable.
 */

export const TwilioCode = {
  invalidParameter: 20001,
  authenticate: 20003,
  methodNotAllowed: 20004,
  notFound: 20404,
  tooManyRequests: 20429,
  internal: 20500,
  serviceUnavailable: 20503,
  invalidCallState: 21220,
  conferenceFull: 16020,
  subaccountLimit: 20008,
} as const;

/** An error a client caused, with the HTTP status and Twilio code it answers with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function invalidParameter(field: string, detail: string): ApiError {
  return new ApiError(400, TwilioCode.invalidParameter, `Invalid ${field}: ${detail}`);
}

export function missingParameter(field: string): ApiError {
  return new ApiError(400, TwilioCode.invalidParameter, `Missing required parameter ${field} in the post body`);
}

export function notFound(path: string): ApiError {
  return new ApiError(404, TwilioCode.notFound, `The requested resource ${path} was not found`);
}

export function authenticate(): ApiError {
  return new ApiError(401, TwilioCode.authenticate, 'Authenticate');
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, TwilioCode.authenticate, message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, TwilioCode.methodNotAllowed, 'Method not allowed');
}

/**
 * A domain rule refused an operation (the conference is full, the participant is not
 * connected...). The HTTP edge maps it to 400 with its code, like Twilio does.
 */
export class RuleViolation extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RuleViolation';
  }
}

/** A resource was used in a state that does not allow it (closed, not started...). */
export class InvalidStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}

/** Configuration that cannot work; the message says what is wrong and how to fix it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * The store found a row that conflicts with a unique rule. `subject` says which rule:
 * `conference` (a live conference of that name exists), `call` (the call is already a
 * participant), `label` (the label is taken in that conference), `sid` (any other duplicate key).
 */
export class ConflictError extends Error {
  constructor(
    readonly subject: 'conference' | 'call' | 'label' | 'sid',
    message: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * A resource the request named does not exist (or is not the caller's to see). The HTTP edge
 * answers 404 / 20404 with the requested path, as Twilio does.
 */
export class ResourceNotFound extends Error {
  constructor(what: string) {
    super(`${what} was not found`);
    this.name = 'ResourceNotFound';
  }
}

/**
 * The database cannot answer now: its connection was lost, it refused or timed out, a lock or
 * the statement timeout held the query too long. Nothing of the failed operation was kept (a
 * transaction is rolled back; a lost commit either happened whole or not at all), so the HTTP
 * edge answers 503 / 20503, which Twilio documents as "temporarily unavailable: try again with
 * exponential back-off" (https://www.twilio.com/docs/api/errors/20503). `outage` is one object
 * for every error of one outage, so that whoever logs them can tell each outage once.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly outage: object,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Another node had to carry out the request — it runs the call, or the conference's room — and
 * did not answer in time (it is overloaded, or dying and not yet declared dead). Nothing was
 * changed here; the HTTP edge answers 503 / 20503, to be retried with back-off.
 */
export class NodeUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeUnavailableError';
  }
}
