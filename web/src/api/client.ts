import createClient, { type Middleware } from 'openapi-fetch';
import type { paths, components } from './schema';

export type { paths, components };

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON a path answers with on success: `Ok<'/api/v1/threads/{id}'>`. */
export type Ok<P extends keyof paths, M extends 'get' | 'post' | 'patch' | 'put' = 'get'> =
  paths[P][M] extends { responses: infer R } ? (R extends { 200: infer A } ? Json<A> : R extends { 201: infer B } ? Json<B> : never) : never;
/** The JSON body a path takes. */
export type Body<P extends keyof paths, M extends 'post' | 'patch' | 'put'> =
  paths[P][M] extends { requestBody?: { content: { 'application/json': infer T } } } ? T : never;

export type Attachment = Ok<'/api/v1/attachments/{id}'>;
export type Thread = Ok<'/api/v1/threads/{id}'>;
export type Message = Ok<'/api/v1/threads/{id}/messages'>['items'][number];
export type Ticket = Ok<'/api/v1/tickets/{id}'>;
export type Pipeline = Ok<'/api/v1/pipelines/{id}'>;
export type Contact = Ok<'/api/v1/contacts/{id}'>;
export type Company = Ok<'/api/v1/companies/{id}'>;
export type Portal = Ok<'/api/v1/portals/{id}'>;
export type PortalUpdate = Body<'/api/v1/portals/{id}', 'patch'>;
export type StaffUser = Ok<'/api/v1/staff-users/{id}'>;
export type Session = Ok<'/api/v1/auth/session'>;
export type TimelineEntry = Ok<'/api/v1/contacts/{id}/timeline'>['items'][number];

/** The API's one error format (application/problem+json). */
export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail?: string;
  /** Per field: where (a JSON pointer, stable), its name in words, and what to do there. */
  errors?: { path: string; label?: string; message: string }[];
}

/** Thrown by `call` for any answer that is not 2xx; carries the problem the API sent. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `request failed (${problem.status})`);
  }

  /**
   * The message to show at a field, by its place in the body (`domain`, `imap/port`): the field's
   * own error, or one of a part of it (a list's item) named by its label.
   */
  fieldError(field: string): string | undefined {
    const own = this.problem.errors?.find((e) => e.path === `/body/${field}`);
    if (own !== undefined) return own.message;
    const part = this.problem.errors?.find((e) => e.path.startsWith(`/body/${field}/`));
    return part === undefined ? undefined : `${part.label ?? 'One of them'}: ${part.message.charAt(0).toLowerCase()}${part.message.slice(1)}`;
  }
}

let csrfToken: string | null = null;
/** The session's CSRF token, sent with every unsafe request (the API refuses them without it). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Something else signed the session out (expiry, another tab): the app shows sign-in again. */
let onUnauthenticated: () => void = () => undefined;
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method) && csrfToken !== null) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !request.url.endsWith('/api/v1/auth/sign-in')) onUnauthenticated();
    return response;
  },
};

/** The typed client: paths, parameters and bodies are checked against the OpenAPI document. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

/** Unwraps an openapi-fetch result: the data, or an ApiError with the problem. */
export async function call<T>(promise: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await promise;
  if (response.ok) return data as T;
  const problem = (error ?? {}) as Partial<Problem>;
  throw new ApiError({ status: response.status, code: problem.code ?? 'ERROR', title: problem.title, detail: problem.detail, errors: problem.errors });
}

/** Multipart upload of one file (field "file"): the generated client does not model multipart bodies. */
async function upload<T>(url: string, file: File): Promise<T> {
  const body = new FormData();
  body.append('file', file);
  const response = await fetch(url, { method: 'POST', body, credentials: 'same-origin', headers: csrfToken === null ? {} : { 'x-csrf-token': csrfToken } });
  const json = (await response.json()) as Partial<Problem> & T;
  if (!response.ok) throw new ApiError({ status: response.status, code: json.code ?? 'ERROR', detail: json.detail, title: json.title, errors: json.errors });
  return json;
}

export function uploadAttachment(file: File): Promise<Attachment> {
  return upload<Attachment>('/api/v1/attachments', file);
}

export function uploadPortalLogo(portalId: number, file: File): Promise<Portal> {
  return upload<Portal>(`/api/v1/portals/${portalId}/logo`, file);
}
