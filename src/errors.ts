/**
 * The one error catalog. Every error a client can see has a stable code, an HTTP status and a
 * message that is safe to show. Answers are RFC 9457 problem documents (see http/problem.ts).
 */
import { summarize } from './http/field-messages.js';

export interface FieldError {
  /** JSON pointer into the request part, e.g. "/body/email". Stable: clients match on it. */
  path: string;
  /** A sentence for a person, to show at the field: "Enter at least 100 characters." */
  message: string;
  /** The field's name in words ("Idle timeout"); filled from the path when not given. */
  label?: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'AppError';
  }

  /** What a customer's page says instead of `message`: a catalogue key and its values (locales/). */
  pageMessage?: { key: string; values?: Record<string, string | number> };

  /** Says this on a customer's page, in the page's language. */
  forPage(key: string, values?: Record<string, string | number>): this {
    this.pageMessage = values === undefined ? { key } : { key, values };
    return this;
  }

  /** Seconds after which a refused request may be tried again (sent as Retry-After). */
  retryAfterSeconds?: number;

  /** A refusal that means something is wrong on our side: logged at error level with these fields. */
  logAsError?: Record<string, unknown>;
}

export const errors = {
  /** Bad input; without a message, the title names the fields (http/field-messages.ts). */
  validation: (fieldErrors: FieldError[], message = summarize(fieldErrors)) =>
    new AppError(400, 'VALIDATION_FAILED', message, fieldErrors),
  malformedJson: () => new AppError(400, 'MALFORMED_JSON', 'The request body is not valid JSON.'),
  badCursor: () => new AppError(400, 'BAD_CURSOR', 'The cursor is not one this server issued, or belongs to another sort.'),
  unsupportedMediaType: (expected = 'application/json') =>
    new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `Send the request body as ${expected}.`),
  payloadTooLarge: () => new AppError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.'),
  unauthenticated: () => new AppError(401, 'UNAUTHENTICATED', 'Sign in, or send a valid API token.'),
  forbidden: (what = 'You may not do this.') => new AppError(403, 'FORBIDDEN', what),
  csrf: () => new AppError(403, 'CSRF_TOKEN_INVALID', 'The request lacks a valid X-CSRF-Token header.'),
  previewReadOnly: () => new AppError(403, 'PREVIEW_READ_ONLY', 'This is a preview of the portal: nothing can be changed here.').forPage('preview.readOnly'),
  invalidCredentials: () => new AppError(401, 'INVALID_CREDENTIALS', 'The email or password is wrong.'),
  rateLimited: (retryAfterSeconds: number) => {
    const error = new AppError(429, 'RATE_LIMITED', `Too many attempts. Try again in ${retryAfterSeconds} seconds.`)
      .forPage('error.tooMany.message', { seconds: retryAfterSeconds });
    error.retryAfterSeconds = retryAfterSeconds;
    return error;
  },
  /** Past a soft limit: wait this long and try again, with the ticket the answer carries. */
  waitAndRetry: (seconds: number) => {
    const error = new AppError(429, 'WAIT_AND_RETRY', `Many people are signing in from this network. Wait ${seconds} seconds, then try again.`)
      .forPage('error.busy.message', { seconds });
    error.retryAfterSeconds = seconds;
    return error;
  },
  notFound: (what: string) => new AppError(404, `${what.toUpperCase().replace(/[^A-Z]+/g, '_')}_NOT_FOUND`, `No such ${what.toLowerCase()}.`),
  attachmentFileMissing: (attachmentId: number) => {
    const error = new AppError(404, 'ATTACHMENT_FILE_MISSING', 'The file of this attachment is missing on the server. It has been logged.').forPage('attachment.missing');
    error.logAsError = { attachmentId };
    return error;
  },
  routeNotFound: () => new AppError(404, 'ROUTE_NOT_FOUND', 'There is nothing at this address.'),
  methodNotAllowed: () => new AppError(405, 'METHOD_NOT_ALLOWED', 'This address does not take that method.'),
  conflict: (code: string, message: string) => new AppError(409, code, message),
  unprocessable: (code: string, message: string, fieldErrors?: FieldError[]) =>
    new AppError(422, code, message, fieldErrors),
  portalNotAvailable: () => new AppError(404, 'PORTAL_NOT_AVAILABLE', 'This support site is not available.'),
  serviceUnavailable: () => new AppError(503, 'SERVICE_UNAVAILABLE', 'The server is busy. Try again shortly.'),
  internal: () => new AppError(500, 'INTERNAL', 'Something went wrong on our side. It has been logged.'),
};
