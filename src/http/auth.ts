import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { errors } from '../errors.js';
import type { StaffAuthService, StaffPrincipal } from '../modules/staff/auth.service.js';
import { allows } from '../modules/staff/staff.policy.js';
import { safeEqual } from '../security/secrets.js';
import type { MemberAuthService } from '../modules/members/member-auth.service.js';
import type { PortalHosts } from '../modules/portal/hosts.js';
import { readPortalCookie } from '../modules/portal/cookies.js';
import type { App } from './types.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Under HTTPS the cookie takes the __Host- prefix: Secure, no Domain, Path=/ enforced by browsers. */
export function staffCookieName(config: Config): string {
  return config.publicAppUrl.protocol === 'https:' ? '__Host-portico_staff' : 'portico_staff';
}

export function staffCookieOptions(config: Config, expiresAt: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: config.publicAppUrl.protocol === 'https:',
    expires: new Date(expiresAt),
  };
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? '';
}

/**
 * Authentication and authorization for every route, before the body is read. Each route declares
 * `config.access`; a route without one cannot be registered (default deny, enforced at boot).
 */
export interface AuthServices {
  staff: StaffAuthService;
  members: MemberAuthService;
  hosts: PortalHosts;
}

export function registerAuth(app: App, config: Config, { staff: auth, members, hosts }: AuthServices): void {
  app.decorateRequest('staff', null);
  app.decorateRequest('portal', null);
  app.decorateRequest('member', null);
  app.decorateRequest('translator', null);
  app.decorateRequest('portalTheme', null);
  app.decorate('routeTable', []);
  const cookieName = staffCookieName(config);

  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new Error(`route ${route.method.toString()} ${route.url} declares no config.access`);
    }
    const schema = route.schema as { response?: Record<string, unknown>; body?: { properties?: Record<string, unknown> }; querystring?: unknown; params?: unknown } | undefined;
    for (const method of [route.method].flat()) {
      app.routeTable.push({
        method,
        url: route.url,
        access,
        responseCodes: Object.keys(schema?.response ?? {}),
        bodyFields: Object.keys(schema?.body?.properties ?? {}),
        schemas: { body: schema?.body, querystring: schema?.querystring, params: schema?.params },
      });
    }
  });

  function sessionCookieOf(request: FastifyRequest): string | undefined {
    const header = request.headers.cookie;
    if (header === undefined || !header.includes(cookieName)) return undefined;
    return app.parseCookie(header)[cookieName];
  }

  async function principalOf(request: FastifyRequest): Promise<StaffPrincipal | null> {
    const bearer = bearerOf(request);
    if (bearer !== undefined) return bearer === '' ? null : auth.resolveApiToken(bearer);
    const cookie = sessionCookieOf(request);
    if (cookie === undefined || cookie === '' || cookie.length > 200) return null;
    return auth.resolveSession(cookie);
  }


  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const portal = (await hosts.resolve(request.headers.host)) ?? null;
    request.portal = portal;
    if (request.is404) return;
    const routeConfig = request.routeOptions.config;
    const access = routeConfig.access;
    if (access === undefined) throw errors.forbidden();
    if (access === 'portal' || access === 'member') {
      if (portal === null) throw errors.routeNotFound();
      if (portal.enabled !== 1) throw errors.portalNotAvailable();
      if (access === 'member') {
        // A staff preview comes first: read-only, whatever else the browser holds.
        const preview = readPortalCookie(request, 'preview');
        if (preview !== undefined && preview !== '' && preview.length <= 200) {
          const viewer = await members.resolvePreview(portal, preview);
          if (viewer !== null) {
            if (!SAFE_METHODS.has(request.method)) throw errors.previewReadOnly();
            request.member = viewer;
            return;
          }
        }
        const token = readPortalCookie(request, 'member');
        const member = token === undefined || token === '' || token.length > 200 ? null : await members.resolve(portal, token);
        if (member === null) {
          if (request.method === 'GET') {
            const next = encodeURIComponent(request.url.slice(0, 1000));
            return reply.code(303).header('location', `/${portal.slug}/sign-in?next=${next}`).header('cache-control', 'no-store').send();
          }
          throw errors.unauthenticated();
        }
        request.member = member;
      } else if (routeConfig.memberIfSignedIn === true && request.method === 'GET') {
        const token = readPortalCookie(request, 'member');
        if (token !== undefined && token !== '' && token.length <= 200) request.member = await members.resolve(portal, token);
      }
      return;
    }
    // The staff app and its API never answer on a portal's host.
    if (portal !== null && routeConfig.anyHost !== true) throw errors.routeNotFound();
    if (access === 'public') return;
    const principal = await principalOf(request);
    if (principal === null) {
      if (sessionCookieOf(request) !== undefined) reply.clearCookie(cookieName, { path: '/' });
      throw errors.unauthenticated();
    }
    if (principal.session !== undefined && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !safeEqual(sent, principal.session.csrfToken)) throw errors.csrf();
    }
    if (!allows(principal.actor, access)) throw errors.forbidden();
    request.staff = principal;
  });
}

/** The signed-in staff principal of a route whose access is not 'public'. */
export function staffOf(request: FastifyRequest): StaffPrincipal {
  if (request.staff === null) throw errors.unauthenticated();
  return request.staff;
}
