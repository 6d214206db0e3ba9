// Typed errors: API errors carry the HTTP status and the Status reason so callers can branch on
// `instanceof NotFoundError` instead of parsing messages; TerminalError tells the controller not to retry.

/** Returned (thrown) by a reconciler for failures a retry cannot fix. Counted, logged, not retried. */
export class TerminalError extends Error {
  override name = 'TerminalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The `Status` object the API server returns with a failed request. */
export interface StatusBody {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: StatusBody,
  ) {
    super(message);
  }
}

export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}
export class ConflictError extends ApiError {
  override name = 'ConflictError';
}
export class AlreadyExistsError extends ApiError {
  override name = 'AlreadyExistsError';
}
/** 410: the requested resourceVersion is too old; an informer must relist. */
export class GoneError extends ApiError {
  override name = 'GoneError';
}

/** Maps a failed response to the most specific error class. */
export function apiErrorFrom(status: number, body: StatusBody | undefined, fallbackMessage: string): ApiError {
  const reason = body?.reason ?? '';
  const message = body?.message ?? fallbackMessage;
  if (status === 404) return new NotFoundError(status, reason || 'NotFound', message, body);
  if (status === 409 && reason === 'AlreadyExists') return new AlreadyExistsError(status, reason, message, body);
  if (status === 409) return new ConflictError(status, reason || 'Conflict', message, body);
  if (status === 410) return new GoneError(status, reason || 'Expired', message, body);
  return new ApiError(status, reason, message, body);
}

/**
 * Read from the cache while the resource is not available: the API server does not serve it (an
 * optional resource such as DRA's or Gateway API's), or its informer has not synced yet. Check
 * `cache.isAvailable(ref)` first; this error is the bug report when that was forgotten.
 */
export class ResourceUnavailableError extends Error {
  override name = 'ResourceUnavailableError';
}

/** Why a reconcile's AbortSignal fired. */
export class ReconcileAbortedError extends Error {
  override name = 'ReconcileAbortedError';
  constructor(
    readonly reason: 'deadline' | 'shutdown',
    message: string,
  ) {
    super(message);
  }
}

export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
export function isConflict(err: unknown): err is ConflictError {
  return err instanceof ConflictError;
}
export function isAlreadyExists(err: unknown): err is AlreadyExistsError {
  return err instanceof AlreadyExistsError;
}

/**
 * The API server refused the object itself (422 Invalid, 400 BadRequest): sending it again cannot
 * succeed, only a different object can. The message names the fields.
 */
export function isInvalid(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.status === 422 || err.status === 400);
}

/** A create refused because its namespace is being deleted (StatusCause NamespaceTerminating). */
export function isNamespaceTerminating(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.status !== 403) return false;
  // A StatusCause's type travels as `reason` on the wire (metav1.StatusCause: Type `json:"reason"`).
  const causes = (err.body?.details as { causes?: { reason?: string }[] } | undefined)?.causes ?? [];
  return causes.some((c) => c.reason === 'NamespaceTerminating');
}
