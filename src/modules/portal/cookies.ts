import type { FastifyReply, FastifyRequest } from 'fastify';

/** Every cookie a portal's host sets, by what it is for. */
export type PortalCookie = 'member' | 'preview' | 'form' | 'language' | 'registration' | 'sso' | 'wait';

const BASE: Record<PortalCookie, string> = {
  /** The member's session (a random id; the session is a row). */
  member: 'portico_member',
  /** A staff preview of the portal, read-only (P30). */
  preview: 'portico_preview',
  /** The double-submit CSRF token of the forms shown before sign-in. */
  form: 'portico_form',
  /** The language the visitor chose on the switch (X1). */
  language: 'portico_lang',
  /** Marks the browser that registered, so the emailed link signs in there only. */
  registration: 'portico_registration',
  /** Proves, when an identity provider answers, that this browser started the sign-in. */
  sso: 'portico_sso',
  /** A wait ticket: past a soft limit, the visitor waited before trying again (http/limits.ts). */
  wait: 'portico_wait',
};

/**
 * Whether the portal is served over https: a request that arrived over TLS (or, with
 * TRUST_PROXY, whose proxy says so in X-Forwarded-Proto), or a deployment whose public URL is
 * https, which is what every link Portico sends names.
 */
export function portalIsHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.server.deps.config.publicAppUrl.protocol === 'https:';
}

/**
 * The cookie's name: under https `__Host-` (Secure, this host only, path /: a browser refuses it
 * otherwise, so no other host or path can plant or shadow it), or `__Secure-` for a cookie
 * scoped to a path; over plain http (development) the bare name.
 */
export function portalCookieName(request: FastifyRequest, which: PortalCookie, path = '/'): string {
  if (!portalIsHttps(request)) return BASE[which];
  return path === '/' ? `__Host-${BASE[which]}` : `__Secure-${BASE[which]}`;
}

/** The cookie's value as this request sent it, if it did. */
export function readPortalCookie(request: FastifyRequest, which: PortalCookie, path = '/'): string | undefined {
  const header = request.headers.cookie;
  const name = portalCookieName(request, which, path);
  if (header === undefined || !header.includes(name)) return undefined;
  return request.server.parseCookie(header)[name];
}

export interface CookieLife {
  expires?: Date;
  /** Seconds. */
  maxAge?: number;
  /** Path / unless given. */
  path?: string;
}

/** Sets a portal cookie: HttpOnly, SameSite=Lax, Secure under https, named as above. */
export function setPortalCookie(reply: FastifyReply, request: FastifyRequest, which: PortalCookie, value: string, life: CookieLife = {}): void {
  const path = life.path ?? '/';
  reply.setCookie(portalCookieName(request, which, path), value, {
    path,
    httpOnly: true,
    sameSite: 'lax',
    secure: portalIsHttps(request),
    ...(life.expires === undefined ? {} : { expires: life.expires }),
    ...(life.maxAge === undefined ? {} : { maxAge: life.maxAge }),
  });
}

export function clearPortalCookie(reply: FastifyReply, request: FastifyRequest, which: PortalCookie, path = '/'): void {
  reply.clearCookie(portalCookieName(request, which, path), { path, httpOnly: true, sameSite: 'lax', secure: portalIsHttps(request) });
}
