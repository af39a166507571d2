import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errors, type FieldError } from '../errors.js';
import type { ProblemBody } from './common-schemas.js';
import { isUnstorableText } from '../db/db-errors.js';
import { PORTAL_PAGE_CSP } from './security-headers.js';
import { describeIssues, labelOfPath, type SchemaNode } from './field-messages.js';

/** Ajv's issues, in words, with the route's schema of that request part for the fields' titles. */
function fieldErrors(error: FastifyError, request: FastifyRequest | undefined): FieldError[] {
  const context = error.validationContext ?? 'body';
  const schemas = request?.routeOptions.schema as Record<string, SchemaNode | undefined> | undefined;
  return describeIssues(error.validation ?? [], { prefix: `/${context}`, root: schemas?.[context] });
}

/** Turns anything thrown into an AppError: known framework errors keep their meaning, the rest is 500. */
export function toAppError(error: unknown, request?: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const e = error as Partial<FastifyError> & { type?: string };
  if (e.validation !== undefined) return errors.validation(fieldErrors(e as FastifyError, request));
  // The validator itself threw on what it was given (an object whose own `valueOf` is not a
  // function, compared for uniqueItems): only hostile input does that, and it is not valid.
  if (e.code === 'FST_ERR_VALIDATION') {
    const context = (e as { validationContext?: string }).validationContext ?? 'body';
    return errors.validation([{ path: `/${context}`, label: context === 'body' ? 'Request' : labelOfPath(`/${context}`), message: 'This value cannot be read: send plain text, numbers, lists and fields.' }]);
  }
  if (isUnstorableText(error)) return new AppError(400, 'BAD_REQUEST', 'The request holds a NUL character, which text may not contain.');
  switch (e.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errors.malformedJson();
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return errors.payloadTooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return errors.unsupportedMediaType();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new AppError(400, 'BAD_REQUEST', 'The request is malformed.');
    // A header value the request made (a Location from a crafted link): the request's fault.
    case 'ERR_INVALID_CHAR':
    case 'ERR_HTTP_INVALID_HEADER_VALUE':
    case 'ERR_INVALID_HTTP_TOKEN':
      return new AppError(400, 'BAD_REQUEST', 'The request asks for an address that cannot be sent back.');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError(400, 'BAD_REQUEST', 'The request address is malformed.');
    default:
      break;
  }
  // JSON.parse errors, prototype poisoning and the like arrive as SyntaxError with status 400.
  if (error instanceof SyntaxError && e.statusCode === 400) return errors.malformedJson();
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 429) return errors.rateLimited(60);
    return new AppError(e.statusCode, 'BAD_REQUEST', 'The request is not acceptable.');
  }
  return errors.internal();
}

export function problemBody(err: AppError, request: FastifyRequest): ProblemBody {
  const body: ProblemBody = {
    type: `https://portico.dev/problems/${err.code.toLowerCase().replace(/_/g, '-')}`,
    title: err.message,
    status: err.status,
    code: err.code,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: request.id,
  };
  if (err.errors !== undefined && err.errors.length > 0) body.errors = err.errors.map((e) => ({ path: e.path, label: e.label ?? labelOfPath(e.path), message: e.message }));
  return body;
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: AppError): FastifyReply {
  return reply
    .code(err.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('cache-control', 'no-store')
    .serializer(JSON.stringify)
    .send(problemBody(err, request));
}

/** Renders an error as an HTML page when the request came to a portal (portal/pages.routes.ts). */
export type HtmlErrorPage = (request: FastifyRequest, error: AppError) => Promise<string | undefined>;

async function sendError(reply: FastifyReply, request: FastifyRequest, err: AppError, htmlPage: HtmlErrorPage | undefined): Promise<FastifyReply> {
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  let page: string | undefined;
  try {
    page = await htmlPage?.(request, err);
  } catch (error) {
    // The error page itself failed (its database read, say): the plain answer still goes out.
    request.log.error({ err: error }, 'error page failed');
  }
  if (page === undefined) return sendProblem(reply, request, err);
  return reply
    .code(err.status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('vary', 'Accept-Language, Cookie')
    .header('content-security-policy', PORTAL_PAGE_CSP)
    .serializer((payload) => String(payload))
    .send(page);
}

/** One error handler and one not-found handler for the whole app. */
export function registerProblemHandlers(app: FastifyInstance, htmlPage?: HtmlErrorPage): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else if (appError.logAsError !== undefined) {
      request.log.error({ ...appError.logAsError, code: appError.code }, appError.message);
    } else {
      request.log.info({ code: appError.code, status: appError.status }, 'request refused');
    }
    return sendError(reply, request, appError, htmlPage);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, request, errors.routeNotFound(), htmlPage));
}
