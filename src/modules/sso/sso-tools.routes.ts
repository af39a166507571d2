import { Type, type Static } from 'typebox';
import { staffOf } from '../../http/auth.js';
import { Id, iso, Nullable, problemResponses, Timestamp } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import { errors } from '../../errors.js';
import { portalUrl, signInMethods } from '../members/account.service.js';
import type { PortalsService } from '../portal/portals.service.js';
import { DiscoveryProblem, IssuerProblem } from './oidc-discovery.js';
import { MetadataProblem, readIdpMetadata } from './saml-metadata.js';
import { ProviderParams } from './sso.schemas.js';
import type { SsoService } from './sso.service.js';
import type { TestSignIn } from './test-sign-ins.js';

const MetadataRead = Type.Object({
  entityId: Type.String({ description: 'The identity provider’s entity id' }),
  ssoUrl: Type.String({ description: 'Where Portico sends people to sign in' }),
  certificates: Type.Array(Type.Object({
    pem: Type.String(),
    subject: Type.String({ description: 'Whom the certificate names' }),
    issuer: Type.String({ description: 'Who issued it' }),
    validFrom: Timestamp,
    validTo: Timestamp,
    expired: Type.Boolean({ description: 'Past its end date (Portico checks signatures with it all the same)' }),
    fingerprint: Type.String({ description: 'SHA-256 fingerprint, as identity providers show it' }),
  })),
});

const DiscoveryBody = Type.Object(
  {
    issuer: Type.String({ minLength: 1, maxLength: 2000, description: 'The issuer to try, as it would be saved' }),
    scopes: Type.Optional(Type.String({ maxLength: 500, description: 'The scopes the provider would be asked for (space-separated); those it does not list are named' })),
  },
  { additionalProperties: false },
);

const DiscoveryFound = Type.Object({
  issuer: Type.String(),
  authorizationEndpoint: Type.String({ description: 'Where people sign in' }),
  tokenEndpoint: Type.String(),
  userinfoEndpoint: Nullable(Type.String()),
  jwksUri: Type.String({ description: 'Where the provider publishes its signing keys' }),
  scopesSupported: Type.Array(Type.String()),
  signingKeys: Type.Integer({ description: 'How many signing keys the provider publishes' }),
  warnings: Type.Array(Type.String(), { description: 'Plain sentences on what may not work' }),
});

const Identity = Type.Object({
  subject: Type.String({ description: 'The provider’s id for the person' }),
  email: Nullable(Type.String()),
  emailVerified: Nullable(Type.Boolean()),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
});

const TestSignInView = Type.Object({
  id: Type.String({ description: 'Ask for the outcome with it (only the staff user who started the test may)' }),
  url: Nullable(Type.String({ description: 'Open it in a new tab, once: the provider’s sign-in, on the portal’s host (given only when the test starts)' })),
  startedAt: Timestamp,
  expiresAt: Timestamp,
  result: Nullable(Type.Object({
    outcome: Type.Enum(['would_sign_in', 'denied', 'refused'], { description: 'would_sign_in: the provider proved who it was and the portal would let them in; denied: proved, but kept out; refused: nothing proved' }),
    message: Type.String({ description: 'What happened, in words for an admin' }),
    detail: Nullable(Type.String({ description: 'Which check failed, when one did' })),
    identity: Nullable(Identity),
  }, { description: 'Null while the test is under way' })),
});

const TestParams = Type.Object({ id: Id, providerId: Id, testId: Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', 'x-hint': 'Use the test id the test sign-in was started with.' }) }, { additionalProperties: false });

function presentTest(test: TestSignIn, url: string | null): Static<typeof TestSignInView> {
  const r = test.result;
  return {
    id: test.id,
    url,
    startedAt: iso(test.startedAt),
    expiresAt: iso(test.expiresAt),
    result: r === null ? null : { outcome: r.outcome, message: r.message, detail: r.outcome === 'would_sign_in' ? null : r.detail, identity: r.identity },
  };
}

/**
 * What the staff app's single sign-on screens ask before saving (P12, X2): an identity
 * provider's SAML metadata read, an OpenID Connect issuer tried, and an admin's test sign-in
 * through a saved provider that ends without a session. Staff with the portal settings
 * permission (P3); every refusal in plain words at the field it concerns.
 */
export function ssoToolRoutes(app: App, { sso, portals }: { sso: SsoService; portals: PortalsService }): void {
  const tags = ['single sign-on'];

  app.post('/api/v1/portals/:id/sso-providers/saml-metadata', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'Read an identity provider’s SAML metadata: its entity id, sign-in address and signing certificates (nothing is saved)',
      params: Type.Object({ id: Id }, { additionalProperties: false }),
      body: Type.Object({ metadataXml: Type.String({ maxLength: 200_000, description: 'The metadata XML, as the identity provider gives it' }) }, { additionalProperties: false }),
      response: { 200: MetadataRead, ...problemResponses },
    },
  }, async (request) => {
    await portals.get(request.params.id);
    try {
      const read = readIdpMetadata(request.body.metadataXml);
      const now = request.server.deps.clock.now();
      return { ...read, certificates: read.certificates.map((c) => ({ ...c, validFrom: iso(c.validFrom), validTo: iso(c.validTo), expired: c.validTo < now })) };
    } catch (error) {
      if (error instanceof MetadataProblem) throw errors.validation([{ path: '/body/metadataXml', message: error.message }], 'This metadata cannot be used.');
      throw error;
    }
  });

  app.post('/api/v1/portals/:id/sso-providers/oidc-discovery', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'Try an OpenID Connect issuer before saving it: its discovery document and signing keys, fetched only from public addresses',
      params: Type.Object({ id: Id }, { additionalProperties: false }),
      body: DiscoveryBody,
      response: { 200: DiscoveryFound, ...problemResponses },
    },
  }, async (request) => {
    await portals.get(request.params.id);
    try {
      return await sso.discover(request.body.issuer, request.body.scopes ?? 'openid email profile');
    } catch (error) {
      if (error instanceof IssuerProblem) throw errors.validation([{ path: '/body/issuer', message: error.message }], 'This issuer cannot be tried.');
      if (error instanceof DiscoveryProblem) throw errors.unprocessable('OIDC_DISCOVERY_FAILED', error.message, [{ path: '/body/issuer', message: error.message }]);
      throw error;
    }
  });

  app.post('/api/v1/portals/:id/sso-providers/:providerId/test-sign-ins', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'Start a test sign-in through a provider: open the answer’s url in a new tab; it ends without signing anyone in, and its outcome is read with the id',
      params: ProviderParams,
      response: { 201: TestSignInView, ...problemResponses },
    },
  }, async (request, reply) => {
    const portal = await portals.get(request.params.id);
    const provider = await sso.get(portal.id, request.params.providerId);
    if (portal.domain === null || portal.enabled !== 1) throw errors.conflict('PORTAL_NOT_LIVE', 'Turn the portal on first: a test sign-in runs on the portal’s own address.');
    if (!signInMethods(portal).sso) throw errors.conflict('SSO_NOT_A_SIGN_IN_METHOD', 'Choose single sign-on among the portal’s sign-in methods first: a test sign-in runs like a customer’s.');
    if (provider.enabled !== 1) throw errors.conflict('PROVIDER_OFF', 'Turn this provider on first: a test sign-in runs like a customer’s.');
    const started = await sso.tests.start(provider.id, staffOf(request).actor.id);
    const test = { id: started.id, providerId: provider.id, staffId: staffOf(request).actor.id, startedAt: started.startedAt, expiresAt: started.expiresAt, result: null };
    return reply.code(201).send(presentTest(test, portalUrl(request.server.deps, portal, `/sso/${provider.id}/test/${started.linkToken}`)));
  });

  app.get('/api/v1/portals/:id/sso-providers/:providerId/test-sign-ins/:testId', {
    config: { access: 'portal_settings' },
    schema: {
      tags,
      summary: 'The outcome of a test sign-in (null while under way)',
      params: TestParams,
      response: { 200: TestSignInView, ...problemResponses },
    },
  }, async (request) => {
    const portal = await portals.get(request.params.id);
    const provider = await sso.get(portal.id, request.params.providerId);
    return presentTest(await sso.tests.get(provider.id, request.params.testId, staffOf(request).actor.id), null);
  });
}
