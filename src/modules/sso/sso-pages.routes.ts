import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../../errors.js';
import { Id } from '../../http/common-schemas.js';
import { perClient } from '../../http/limits.js';
import { LIMITS } from '../../security/limits.js';
import { readPortalCookie, setPortalCookie } from '../portal/cookies.js';
import type { App } from '../../http/types.js';
import { randomToken, safeEqual, sha256Hex } from '../../security/secrets.js';
import { signInMethods } from '../members/account.service.js';
import type { MemberAuthService, MemberPrincipal } from '../members/member-auth.service.js';
import type { PageKit } from '../portal/account.routes.js';
import type { PortalRow } from '../portal/portals.service.js';
import { JwtRefused } from './jwt.js';
import { OidcRefused, type OidcPending } from './oidc.js';
import { SsoDenied, SsoRefused } from './refusals.js';
import { SamlRefused, SAML_REQUEST_TTL_MS, MAX_SAML_RESPONSE_BYTES } from './saml.js';
import { AnotherMemberSignedIn, assertedIdentity } from './sign-in.js';
import { reasonText, type TestResult } from './test-sign-ins.js';
import type { JwtSettingsT } from './sso.schemas.js';
import { OIDC_FLOW_TTL_MS, type AssertedIdentity, type ProviderRow, type SsoService } from './sso.service.js';

/**
 * Proves, at the end of a sign-in, that this browser started it: a random value in a cookie
 * (httpOnly, SameSite=Lax, on the provider's paths) set at the start, whose hash the flow keeps.
 * A SAML response and a POSTed JWT arrive as cross-site POSTs, which carry no SameSite=Lax
 * cookie (nor the member's session cookie): they are verified, held for two minutes under a
 * random key, and finished in a GET of our own (`continue`), a top-level navigation that carries
 * both. That works the same on http and https, where SameSite=None would need Secure and would
 * send the cookie with every cross-site request.
 */
/** How long a JWT sign-in may take at the company's site. */
const JWT_FLOW_TTL_MS = 10 * 60_000;
/** A verified POSTed proof waits this long for its own GET. */
const HELD_TTL_MS = 2 * 60_000;
/** The question "continue as another member?" waits this long for its answer. */
const SWITCH_TTL_MS = 5 * 60_000;

const ProviderParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 60 }), providerId: Id }, { additionalProperties: false });
const TokenParams = Type.Object(
  { slug: Type.String({ minLength: 1, maxLength: 60 }), providerId: Id, token: Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', 'x-hint': 'Open the link exactly as it was given.' }) },
  { additionalProperties: false },
);
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
const SwitchForm = Type.Object({ csrf: Type.String({ maxLength: 100 }), token: Type.String({ maxLength: 100 }) }, { additionalProperties: false });

/** Sign-in endpoints are limited per client address and portal, generously: a company signs in from behind one address. */
const LIMIT = [perClient(LIMITS.ssoClient)];

/**
 * A verified proof on its way to a session: where to go after, the browser that must finish it
 * (null: any, for a sign-in the provider sends unasked), and the admin's test sign-in it is
 * (null for a customer's): a test ends without a session, whatever it proves.
 */
interface Verified {
  identity: AssertedIdentity;
  next: string;
  browserHash: string | null;
  test: string | null;
}

/** What a sign-in started at the portal keeps until the provider answers. */
interface Started {
  next: string;
  /** The admin's test sign-in this is (test-sign-ins.ts); absent for a customer's. */
  test?: string;
}
const testOf = (payload: unknown): string | null => (payload as Started).test ?? null;

/** A verified identity waiting for its next step, with the provider's version it was verified under. */
interface HeldSignIn {
  identity: AssertedIdentity;
  next: string;
  version: number;
  test?: string | null;
}

export interface SsoPagesOptions {
  sso: SsoService;
  members: MemberAuthService;
  kit: PageKit;
  /** Only a path on this portal (pages.routes.ts). */
  safeNext: (portal: PortalRow, next: string | undefined) => string;
}

/** Where the company's site sends the customer back: an opaque path on the portal that names the sign-in started here. */
function jwtReturnTo(portal: PortalRow, provider: ProviderRow, state: string): string {
  return `/${portal.slug}/sso/${provider.id}/jwt/return/${state}`;
}

/** The state of a sign-in started here, out of the return_to the company's site gave back; null when it names none. */
function jwtStateIn(portal: PortalRow, provider: ProviderRow, returnTo: string | undefined): string | null {
  const prefix = `/${portal.slug}/sso/${provider.id}/jwt/return/`;
  if (returnTo?.startsWith(prefix) !== true) return null;
  const state = returnTo.slice(prefix.length);
  return /^[A-Za-z0-9_-]{20,100}$/.test(state) ? state : null;
}

/**
 * The portal's single sign-on endpoints (P12, X2), on the portal's own host: a start per
 * provider, the SAML metadata and assertion consumer service, the JWT endpoint and the OpenID
 * Connect callback; `continue` (a POSTed proof finished in a GET of our own) and `switch` (the
 * answer to "continue as another member?"). Every refusal answers a page with no session, and is
 * logged with its code and reason (never the token or response itself).
 */
export function ssoPageRoutes(app: App, { sso, members, kit, safeNext }: SsoPagesOptions): void {
  /** The provider, when the portal signs in by SSO and the provider is its own and enabled; else 404. */
  const providerOf = async (request: FastifyRequest, slug: string, id: number) => {
    const portal = kit.portalOf(request, slug);
    if (!signInMethods(portal).sso) throw errors.routeNotFound();
    return { portal, provider: await sso.usable(portal, id) };
  };
  /** The proof cookie lives on the provider's own paths. */
  const proofPath = (portal: PortalRow, provider: ProviderRow) => `/${portal.slug}/sso/${provider.id}/`;

  /** The hash of this browser's proof: the one it holds already (sign-ins may be under way in several tabs), or a new one. */
  const browserProof = (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow): string => {
    const held = readPortalCookie(request, 'sso', proofPath(portal, provider));
    const proof = held !== undefined && /^[A-Za-z0-9_-]{32,64}$/.test(held) ? held : randomToken(32);
    setPortalCookie(reply, request, 'sso', proof, { path: proofPath(portal, provider), maxAge: JWT_FLOW_TTL_MS / 1000 });
    return sha256Hex(proof);
  };
  const fromThisBrowser = (request: FastifyRequest, portal: PortalRow, provider: ProviderRow, browserHash: string): boolean => {
    const proof = readPortalCookie(request, 'sso', proofPath(portal, provider));
    return proof !== undefined && proof.length <= 100 && safeEqual(sha256Hex(proof), browserHash);
  };
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] });
  /** The member signed in in this browser on this portal, if any. */
  const currentMember = async (request: FastifyRequest, portal: PortalRow): Promise<MemberPrincipal | null> => {
    const token = readPortalCookie(request, 'member');
    return token === undefined || token === '' || token.length > 200 ? null : members.resolve(portal, token);
  };

  /**
   * The one place a verified identity becomes a session, or the access denied page, or the
   * question whether to leave the member signed in here. `replacing` is that member, once the
   * browser's holder chose to continue as the other.
   */
  const signedIn = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity, next: string, replacing: MemberPrincipal | null = null): Promise<FastifyReply> => {
    const current = replacing ?? await currentMember(request, portal);
    try {
      const signedInAs = replacing === null ? current?.viewer.memberId ?? null : null;
      const session = await sso.signIn(portal, provider, identity, meta(request), { signedInAs });
      // The browser's previous session ends: the same member's (a new id at every sign-in), or the one its holder chose to leave.
      if (current !== null) await members.signOut(current.session.idHash);
      request.log.info({ providerId: provider.id, kind: provider.kind, memberId: session.memberId, replaced: replacing?.viewer.memberId ?? null }, 'single sign-on');
      setPortalCookie(reply, request, 'member', session.token, { expires: new Date(session.expiresAt) });
      return await reply.code(303).header('location', next).header('cache-control', 'no-store').send();
    } catch (error) {
      if (error instanceof AnotherMemberSignedIn && current !== null) return askToSwitch(request, reply, portal, provider, current, error.who, { identity, next, version: provider.updated_at });
      if (error instanceof SsoRefused) return refused(request, reply, portal, provider, error);
      if (!(error instanceof SsoDenied)) throw error;
      request.log.warn({ providerId: provider.id, kind: provider.kind, code: error.code, reason: error.reason }, 'single sign-on denied');
      await sso.recordDenial(portal, provider, identity, error, meta(request));
      const tr = await kit.translator(request, portal);
      const heading = tr.t('access.denied.title');
      return kit.html(reply, kit.render(request, 'access-denied', portal, tr, { page_title: heading, heading, message: tr.t('access.denied.message') }), 403);
    }
  };

  /** A proof that failed its checks: a page saying so, no session, and the code and reason in the log. */
  const refused = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, refusal: SsoRefused): Promise<FastifyReply> => {
    request.log.warn({ providerId: provider.id, kind: provider.kind, code: refusal.code, reason: refusal.message }, 'single sign-on refused');
    await sso.recordRefusal(portal, provider, refusal, meta(request));
    const tr = await kit.translator(request, portal);
    const heading = tr.t('sso.failed.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, {
      page_title: heading, heading, message: tr.t('sso.failed.message'), action: { url: `/${portal.slug}/sign-in`, label: tr.t('sso.failed.action') },
    }), 400);
  };

  /**
   * A browser signed in as another member is asked before it changes hands: the answer is a
   * POST carrying the session's CSRF token and a single-use key, kept for five minutes and bound
   * to this browser's session. Nothing was changed yet.
   */
  const askToSwitch = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, current: MemberPrincipal, who: string, held: HeldSignIn): Promise<FastifyReply> => {
    const key = randomToken(32);
    await sso.saveFlow(provider.id, `switch:${key}`, { ...held, identity: assertedIdentity(held.identity) }, SWITCH_TTL_MS, current.session.idHash);
    request.log.info({ providerId: provider.id, kind: provider.kind, memberId: current.viewer.memberId, code: 'switch_asked' }, 'single sign-on asks before switching members');
    // The page shows who is signed in here.
    request.member = current;
    const tr = await kit.translator(request, portal);
    const heading = tr.t('sso.switch.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, {
      page_title: heading, heading, message: tr.t('sso.switch.message', { current: current.name, next: who }),
      form: {
        url: `/${portal.slug}/sso/${provider.id}/switch`, label: tr.t('sso.switch.continue', { next: who }),
        fields: [{ name: 'csrf', value: current.session.csrfToken }, { name: 'token', value: key }],
      },
      action: { url: `/${portal.slug}`, label: tr.t('sso.switch.stay', { current: current.name }) },
    }));
  };

  /** The end of a verified sign-in, in a request that carries this browser's cookies. */
  const finish = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, verified: Verified): Promise<FastifyReply> => {
    if (verified.browserHash !== null && !fromThisBrowser(request, portal, provider, verified.browserHash)) {
      const refusal = new SsoRefused('other_browser', 'the sign-in was started in another browser');
      if (verified.test !== null) return testEnded(request, reply, portal, provider, verified.test, refusal, verified.identity);
      return refused(request, reply, portal, provider, refusal);
    }
    if (verified.test !== null) return testEnded(request, reply, portal, provider, verified.test, null, verified.identity);
    return signedIn(request, reply, portal, provider, verified.identity, verified.next);
  };

  /**
   * The end of an admin's test sign-in: never a session, whatever was proved. What the sign-in
   * rule would do with the identity (a dry run, rolled back), or why it stopped, is kept for the
   * admin's screen; this tab says the test is over.
   */
  const testEnded = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, test: string, refusal: SsoRefused | null, identity: AssertedIdentity | null): Promise<FastifyReply> => {
    const asserted = identity === null ? null : assertedIdentity(identity);
    let result: TestResult;
    if (refusal !== null) {
      result = { outcome: 'refused', identity: asserted, code: refusal.code, message: reasonText(refusal.code), detail: refusal.message };
    } else {
      const verdict = await sso.dryRun(portal, provider, asserted as AssertedIdentity);
      result = verdict instanceof SsoDenied ? { outcome: 'denied', identity: asserted, code: verdict.code, message: reasonText(verdict.code), detail: verdict.reason }
        : verdict instanceof SsoRefused ? { outcome: 'refused', identity: asserted, code: verdict.code, message: reasonText(verdict.code), detail: verdict.message }
        : { outcome: 'would_sign_in', identity: asserted as AssertedIdentity, message: `This person would be signed in as ${verdict.who}.` };
    }
    await sso.tests.finish(provider.id, test, result);
    request.log.info({ providerId: provider.id, kind: provider.kind, outcome: result.outcome, code: 'code' in result ? result.code : null }, 'single sign-on test finished');
    const tr = await kit.translator(request, portal);
    const heading = tr.t('sso.test.title');
    return kit.html(reply, kit.render(request, 'notice', portal, tr, { page_title: heading, heading, message: tr.t('sso.test.message') }));
  };

  /** After the proof checked out: a GET finishes here; a POST (cross-site, so without our cookies) goes on in a GET of our own. */
  const complete = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, verified: Verified): Promise<FastifyReply> => {
    if (request.method === 'GET') return finish(request, reply, portal, provider, verified);
    const key = randomToken(32);
    const held: HeldSignIn = { identity: assertedIdentity(verified.identity), next: verified.next, version: provider.updated_at, test: verified.test };
    await sso.saveFlow(provider.id, `held:${key}`, held, HELD_TTL_MS, verified.browserHash);
    return reply.code(303).header('location', `/${portal.slug}/sso/${provider.id}/continue/${key}`).header('cache-control', 'no-store').send();
  };

  // ---- starting a sign-in: each binds it to this browser ----

  const startSaml = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, started: Started): Promise<string> => {
    const { url, requestId } = await sso.saml(portal, provider).authorizeUrl();
    await sso.saveFlow(provider.id, `authn:${requestId}`, started, SAML_REQUEST_TTL_MS, browserProof(request, reply, portal, provider));
    return url;
  };
  const startJwt = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, started: Started): Promise<string> => {
    const state = randomToken(32);
    await sso.saveFlow(provider.id, `jwt:${state}`, started, JWT_FLOW_TTL_MS, browserProof(request, reply, portal, provider));
    const url = new URL((sso.settings(provider) as JwtSettingsT).loginUrl);
    url.searchParams.set('return_to', jwtReturnTo(portal, provider, state));
    return url.href;
  };
  const startOidc = async (request: FastifyRequest, reply: FastifyReply, portal: PortalRow, provider: ProviderRow, started: Started): Promise<string> => {
    const oidc = await sso.oidc(portal, provider).start();
    await sso.saveFlow(provider.id, `oidc:${oidc.pending.state}`, { ...started, pending: oidc.pending }, OIDC_FLOW_TTL_MS, browserProof(request, reply, portal, provider));
    return oidc.url;
  };
  const starts = { saml: startSaml, jwt: startJwt, oidc: startOidc };

  app.get('/:slug/sso/:providerId/start', {
    config: { access: 'portal', limits: LIMIT },
    schema: { hide: true, params: ProviderParams, querystring: NextQuery },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    let location: string;
    try {
      location = await starts[provider.kind](request, reply, portal, provider, { next: safeNext(portal, request.query.next) });
    } catch (error) {
      if (error instanceof OidcRefused) return refused(request, reply, portal, provider, error);
      throw error;
    }
    return reply.code(303).header('location', location).header('cache-control', 'no-store').send();
  });

  // An admin's test sign-in (test-sign-ins.ts): the link the staff app opened, once; then as a customer's start.
  app.get('/:slug/sso/:providerId/test/:token', {
    config: { access: 'portal', limits: LIMIT },
    schema: { hide: true, params: TokenParams },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    const test = await sso.tests.takeLink(provider.id, request.params.token);
    if (test === undefined) return refused(request, reply, portal, provider, new SsoRefused('flow_unknown', 'unknown, used or expired test sign-in link'));
    let location: string;
    try {
      location = await starts[provider.kind](request, reply, portal, provider, { next: `/${portal.slug}`, test });
    } catch (error) {
      if (error instanceof OidcRefused) return testEnded(request, reply, portal, provider, test, error, null);
      throw error;
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
    config: { access: 'portal', limits: LIMIT },
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
    if (identity.inResponseTo === null) {
      // IdP-initiated, which node-saml accepts only where the admin allowed it: no browser to
      // bind it to; a RelayState may name a page of this portal, and nothing else.
      return complete(request, reply, portal, provider, { identity, next: safeNext(portal, request.body.RelayState), browserHash: null, test: null });
    }
    // SP-initiated: the sign-in started under this AuthnRequest id, and the browser that started it.
    const flow = await sso.takeFlow(provider.id, `authn:${identity.inResponseTo}`);
    if (flow === undefined) return refused(request, reply, portal, provider, new SsoRefused('flow_unknown', 'no sign-in under way for this response'));
    return complete(request, reply, portal, provider, { identity, next: (flow.payload as Started).next, browserHash: flow.browserHash, test: testOf(flow.payload) });
  });

  /** Which sign-in a token answers: the one started in some browser (its state is in return_to), or none, where the provider accepts that. */
  const jwtFlow = async (portal: PortalRow, provider: ProviderRow, returnTo: string | undefined): Promise<Omit<Verified, 'identity'> | SsoRefused> => {
    const unsolicited = (sso.settings(provider) as Partial<JwtSettingsT>).allowUnsolicited === true;
    const state = jwtStateIn(portal, provider, returnTo);
    const flow = state === null ? undefined : await sso.takeFlow(provider.id, `jwt:${state}`);
    if (flow !== undefined) return { next: (flow.payload as Started).next, browserHash: flow.browserHash, test: testOf(flow.payload) };
    if (unsolicited) return { next: state === null ? safeNext(portal, returnTo) : safeNext(portal, undefined), browserHash: null, test: null };
    return state === null
      ? new SsoRefused('unsolicited', 'no sign-in was started at the portal for this token, and the provider does not accept tokens sent unasked')
      : new SsoRefused('flow_unknown', 'unknown, used or expired sign-in state');
  };

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
    const flow = await jwtFlow(portal, provider, input.return_to);
    if (flow instanceof SsoRefused) return refused(request, reply, portal, provider, flow);
    if (!(await sso.firstUse('jwt', identity.issuer, identity.jti, identity.validUntil))) return refused(request, reply, portal, provider, new SsoRefused('replayed', 'jti reused'));
    return complete(request, reply, portal, provider, { identity, ...flow });
  };

  app.get('/:slug/sso/:providerId/jwt', {
    config: { access: 'portal', limits: LIMIT },
    schema: { hide: true, params: ProviderParams, querystring: JwtInput },
  }, (request, reply) => jwtSignIn(request, reply, request.params.slug, request.params.providerId, request.query));

  app.post('/:slug/sso/:providerId/jwt', {
    config: { access: 'portal', limits: LIMIT },
    schema: { hide: true, params: ProviderParams, body: JwtInput },
  }, (request, reply) => jwtSignIn(request, reply, request.params.slug, request.params.providerId, request.body));

  app.get('/:slug/sso/:providerId/oidc/callback', {
    config: { access: 'portal', limits: LIMIT },
    schema: { hide: true, params: ProviderParams, querystring: CallbackQuery },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    if (provider.kind !== 'oidc') throw errors.routeNotFound();
    const state = request.query.state;
    const flow = state === undefined ? undefined : await sso.takeFlow(provider.id, `oidc:${state}`);
    if (flow === undefined) return refused(request, reply, portal, provider, new SsoRefused('flow_unknown', 'unknown, used or expired state'));
    // The code is redeemed only in the browser that started the sign-in.
    const test = testOf(flow.payload);
    if (flow.browserHash === null || !fromThisBrowser(request, portal, provider, flow.browserHash)) {
      const refusal = new SsoRefused('other_browser', 'the sign-in was started in another browser');
      return test === null ? refused(request, reply, portal, provider, refusal) : testEnded(request, reply, portal, provider, test, refusal, null);
    }
    const { next, pending } = flow.payload as Started & { pending: OidcPending };
    const rp = sso.oidc(portal, provider);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    let identity;
    try {
      identity = await rp.finish(new URL(`${rp.redirectUri}${query}`), pending);
    } catch (error) {
      if (error instanceof OidcRefused) return test === null ? refused(request, reply, portal, provider, error) : testEnded(request, reply, portal, provider, test, error, null);
      throw error;
    }
    if (test !== null) return testEnded(request, reply, portal, provider, test, null, identity);
    return signedIn(request, reply, portal, provider, identity, next);
  });

  // A POSTed proof, verified and held: finished here, where this browser's cookies arrive.
  app.get('/:slug/sso/:providerId/continue/:token', {
    config: { access: 'portal', limits: LIMIT },
    schema: { hide: true, params: TokenParams },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    const flow = await sso.takeFlow(provider.id, `held:${request.params.token}`);
    if (flow === undefined) return refused(request, reply, portal, provider, new SsoRefused('flow_unknown', 'unknown, used or expired sign-in'));
    const held = flow.payload as HeldSignIn;
    const test = held.test ?? null;
    if (held.version !== provider.updated_at) {
      const refusal = new SsoRefused('provider_changed', 'the provider’s settings changed while the sign-in was under way');
      return test === null ? refused(request, reply, portal, provider, refusal) : testEnded(request, reply, portal, provider, test, refusal, held.identity);
    }
    return finish(request, reply, portal, provider, { identity: held.identity, next: held.next, browserHash: flow.browserHash, test });
  });

  // "Continue as the other member": the signed-in browser's own answer, with its CSRF token.
  app.post('/:slug/sso/:providerId/switch', {
    config: { access: 'portal', limits: LIMIT },
    schema: { hide: true, params: ProviderParams, body: SwitchForm },
  }, async (request, reply) => {
    const { portal, provider } = await providerOf(request, request.params.slug, request.params.providerId);
    const current = await currentMember(request, portal);
    if (current === null || !safeEqual(request.body.csrf, current.session.csrfToken)) throw errors.csrf();
    const flow = await sso.takeFlow(provider.id, `switch:${request.body.token}`);
    if (flow?.browserHash !== current.session.idHash) return refused(request, reply, portal, provider, new SsoRefused('flow_unknown', 'unknown, used or expired confirmation, or another browser’s'));
    const held = flow.payload as HeldSignIn;
    if (held.version !== provider.updated_at) return refused(request, reply, portal, provider, new SsoRefused('provider_changed', 'the provider’s settings changed while the sign-in was under way'));
    return signedIn(request, reply, portal, provider, held.identity, held.next, current);
  });
}
