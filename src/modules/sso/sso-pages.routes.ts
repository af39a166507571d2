import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../../errors.js';
import { Id } from '../../http/common-schemas.js';
import { memberCookieName } from '../../http/auth.js';
import type { App } from '../../http/types.js';
import { randomToken } from '../../security/secrets.js';
import { signInMethods } from '../members/account.service.js';
import type { PageKit } from '../portal/account.routes.js';
import type { PortalRow } from '../portal/portals.service.js';
import { JwtRefused } from './jwt.js';
import { OidcRefused, type OidcPending } from './oidc.js';
import { SamlRefused, SAML_REQUEST_TTL_MS, MAX_SAML_RESPONSE_BYTES } from './saml.js';
import type { JwtSettingsT } from './sso.schemas.js';
import { SsoDenied, SsoRefused } from './refusals.js';
import { OIDC_FLOW_TTL_MS, type AssertedIdentity, type ProviderRow, type SsoService } from './sso.service.js';

/** Proves, at the OpenID Connect callback, that this browser started the sign-in. */
const SSO_COOKIE = 'portico_sso';

const ProviderParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }), providerId: Id }, { additionalProperties: false });
const NextQuery = Type.Object({ next: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });
const AcsForm = Type.Object(
  { SAMLResponse: Type.String({ minLength: 1, maxLength: Math.ceil((MAX_SAML_RESPONSE_BYTES * 4) / 3) + 4 }), RelayState: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);
// Links pick up parameters on the way (utm_source, …): they are ignored, not refused.
const JwtInput = Type.Object(
  { jwt: Type.String({ minLength: 1, maxLength: 8192 }), return_to: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: true, maxProperties: 30 },
);
// Providers add their own parameters (session_state, …); the library checks what matters.
const CallbackQuery = Type.Object({ state: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: true, maxProperties: 20 });

/** Sign-in endpoints are limited per client address and portal, like the password form. */
const LIMIT = { max: 30, timeWindow: '1 minute', keyGenerator: (request: FastifyRequest) => `${request.ip}|${request.headers.host ?? ''}` };

export interface SsoPagesOptions {
  sso: SsoService;
  kit: PageKit;
  /** Only a path on this portal (pages.routes.ts). */
  safeNext: (portal: PortalRow, next: string | undefined) => string;
}

/**
 * The portal's single sign-on endpoints (P12, X2), on the portal's own host: a start per
 * provider, the SAML metadata and assertion consumer service, the JWT endpoint and the OpenID
 * Connect callback. Every refusal answers a page with no session, and is logged with its reason
 * (never the token or response itself).
 */
export function ssoPageRoutes(app: App, { sso, kit, safeNext }: SsoPagesOptions): void {
  /** The provider, when the portal signs in by SSO and the provider is its own and enabled; else 404. */
  const providerOf = async (request: FastifyRequest, slug: string, id: number) => {
    const portal = kit.portalOf(request, slug);
    if (!signInMethods(portal).sso) throw errors.routeNotFound();
    return { portal, provider: await sso.usable(portal, id) };
  };

  const signedIn = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity, next: string) => {
    try {
      const session = await sso.signIn(portal, provider, identity, { ip: request.ip, userAgent: request.headers['user-agent'] });
      request.log.info({ providerId: provider.id, kind: provider.kind, memberId: session.memberId }, 'single sign-on');
      reply.setCookie(memberCookieName(request), session.token, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https', expires: new Date(session.expiresAt) });
      return await reply.code(303).header('location', next).header('cache-control', 'no-store').send();
    } catch (error) {
      if (error instanceof SsoRefused) return refused(request, reply, portal, provider, error);
      if (!(error instanceof SsoDenied)) throw error;
      request.log.warn({ providerId: provider.id, kind: provider.kind, code: error.code, reason: error.reason }, 'single sign-on denied');
      const tr = await kit.translator(request, portal);
      const heading = tr.t('access.denied.title');
      return kit.html(reply, kit.render(request, 'access-denied', portal, tr, { page_title: heading, heading, message: tr.t('access.denied.message') }), 403);
    }
  };

  /** A proof that failed its checks: a page saying so, no session, and the code and reason in the log. */
  const refused = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, refusal: SsoRefused) => {
    request.log.warn({ providerId: provider.id, kind: provider.kind, code: refusal.code, reason: refusal.message }, 'single sign-on refused');
    const tr = await kit.translator(request, portal);
    const heading = tr.t('sso.failed.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, {
      page_title: heading, heading, message: tr.t('sso.failed.message'), action: { url: `/${portal.slug}/sign-in`, label: tr.t('sso.failed.action') },
    }), 400);
  };

  app.get('/:slug/sso/:providerId/start', {
    config: { access: 'portal', rateLimit: LIMIT },
    schema: { hide: true, params: ProviderParams, querystring: NextQuery },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    const next = safeNext(portal, request.query.next);
    let location: string;
    if (provider.kind === 'saml') {
      const relay = randomToken(24);
      await sso.saveFlow(provider.id, relay, { next }, SAML_REQUEST_TTL_MS, null);
      location = await sso.saml(portal, provider).authorizeUrl(relay);
    } else if (provider.kind === 'jwt') {
      const url = new URL((sso.settings(provider) as JwtSettingsT).loginUrl);
      url.searchParams.set('return_to', next);
      location = url.href;
    } else {
      let started;
      try {
        started = await sso.oidc(portal, provider).start();
      } catch (error) {
        if (error instanceof OidcRefused) return refused(request, reply, portal, provider, error);
        throw error;
      }
      const proof = randomToken(24);
      await sso.saveFlow(provider.id, started.pending.state, { next, pending: started.pending }, OIDC_FLOW_TTL_MS, proof);
      reply.setCookie(SSO_COOKIE, proof, { path: `/${portal.slug}/sso/${provider.id}/`, httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https', maxAge: OIDC_FLOW_TTL_MS / 1000 });
      location = started.url;
    }
    return reply.code(303).header('location', location).header('cache-control', 'no-store').send();
  });

  app.get('/:slug/sso/:providerId/saml/metadata', {
    config: { access: 'portal' },
    schema: { hide: true, params: ProviderParams },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    if (provider.kind !== 'saml') throw errors.routeNotFound();
    return reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(sso.saml(portal, provider).metadata());
  });

  app.post('/:slug/sso/:providerId/saml/acs', {
    config: { access: 'portal', rateLimit: LIMIT },
    bodyLimit: 2 * MAX_SAML_RESPONSE_BYTES,
    schema: { hide: true, params: ProviderParams, body: AcsForm },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    if (provider.kind !== 'saml') throw errors.routeNotFound();
    let identity;
    try {
      identity = await sso.saml(portal, provider).verify(request.body.SAMLResponse);
    } catch (error) {
      if (error instanceof SamlRefused) return refused(request, reply, portal, provider, error);
      throw error;
    }
    if (!(await sso.firstUse('saml', identity.issuer, identity.assertionId, identity.validUntil))) return refused(request, reply, portal, provider, new SsoRefused('replayed', 'assertion replayed'));
    const relay = request.body.RelayState;
    let next = safeNext(portal, undefined);
    if (identity.inResponseTo !== null && relay !== undefined) {
      next = ((await sso.takeFlow(provider.id, relay, null)) as { next: string } | undefined)?.next ?? next;
    } else if (identity.inResponseTo === null) {
      // IdP-initiated: a RelayState may name a page of this portal, and nothing else.
      next = safeNext(portal, relay);
    }
    return signedIn(request, reply, portal, provider, identity, next);
  });

  const jwtSignIn = async (request: FastifyRequest, reply: FastifyReply, slug: string, providerId: number, input: { jwt: string; return_to?: string }) => {
    const { portal, provider } = await providerOf(request, slug, providerId);
    if (provider.kind !== 'jwt') throw errors.routeNotFound();
    let identity;
    try {
      identity = await sso.jwt(provider).verify(input.jwt, request.server.deps.clock.now());
    } catch (error) {
      if (error instanceof JwtRefused) return refused(request, reply, portal, provider, error);
      throw error;
    }
    if (!(await sso.firstUse('jwt', identity.issuer, identity.jti, identity.validUntil))) return refused(request, reply, portal, provider, new SsoRefused('replayed', 'jti reused'));
    return signedIn(request, reply, portal, provider, identity, safeNext(portal, input.return_to));
  };

  app.get('/:slug/sso/:providerId/jwt', {
    config: { access: 'portal', rateLimit: LIMIT },
    schema: { hide: true, params: ProviderParams, querystring: JwtInput },
  }, (request, reply) => jwtSignIn(request, reply, request.params.slug, request.params.providerId, request.query));

  app.post('/:slug/sso/:providerId/jwt', {
    config: { access: 'portal', rateLimit: LIMIT },
    schema: { hide: true, params: ProviderParams, body: JwtInput },
  }, (request, reply) => jwtSignIn(request, reply, request.params.slug, request.params.providerId, request.body));

  app.get('/:slug/sso/:providerId/oidc/callback', {
    config: { access: 'portal', rateLimit: LIMIT },
    schema: { hide: true, params: ProviderParams, querystring: CallbackQuery },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    if (provider.kind !== 'oidc') throw errors.routeNotFound();
    const state = request.query.state;
    const proof = app.parseCookie(request.headers.cookie ?? '')[SSO_COOKIE];
    reply.clearCookie(SSO_COOKIE, { path: `/${portal.slug}/sso/${provider.id}/` });
    const flow = state === undefined ? undefined : (await sso.takeFlow(provider.id, state, proof ?? null)) as { next: string; pending: OidcPending } | undefined;
    if (flow === undefined) return refused(request, reply, portal, provider, new SsoRefused('flow_unknown', 'unknown, used or expired state, or another browser'));
    const rp = sso.oidc(portal, provider);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    let identity;
    try {
      identity = await rp.finish(new URL(`${rp.redirectUri}${query}`), flow.pending);
    } catch (error) {
      if (error instanceof OidcRefused) return refused(request, reply, portal, provider, error);
      throw error;
    }
    return signedIn(request, reply, portal, provider, identity, flow.next);
  });
}
