import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { followToCallback, OidcIdp } from '../helpers/oidc-idp.js';
import { cookiesOf } from '../helpers/portal-forms.js';
import { startSamlIdp, type SamlIdp } from '../helpers/saml-idp.js';
import { contactWithTicket, freshIp, get, memberCookie, ssoPortal, type SsoPortal } from '../helpers/sso-fixtures.js';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

// P12 X2 P3 What the staff app's single sign-on screens ask of the API before and after saving:
// a SAML identity provider's metadata read (real metadata from samlify's IdP), an OpenID Connect
// issuer tried (a real oidc-provider; internal addresses refused without a connection), and a
// test sign-in that goes through the real provider and ends without signing anyone in.

/** Product text: sentences for a support admin, never a JSON pointer, a validator's wording or a pattern. */
function expectPlainWords(message: string | undefined): void {
  expect(message).toBeDefined();
  expect(message).toMatch(/^[A-Z].*[.]$/s);
  expect(message).not.toMatch(/\/body\/|must NOT|must match|pattern|\^|\$\)|instancePath|idpMetadataXml|metadataXml/);
}

interface Problem { status: number; code: string; title?: string; errors?: { path: string; message: string }[] }

const SECRET = 'the-company-site-shares-this-secret-0123456789';

describe.each(dialects)('single sign-on admin tools on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let idp: SamlIdp;
  const oidcIdps: OidcIdp[] = [];
  beforeAll(async () => {
    // The OpenID provider listens on loopback, which only this switch lets the server reach.
    t = await createTestApp(dialect, { OUTBOUND_ALLOW_PRIVATE: 'true' });
    t.clock.set(Date.now());
    admin = await createStaff(t, { permissions: ['portal_settings'] });
    idp = await startSamlIdp();
  });
  afterEach(async () => {
    for (const o of oidcIdps.splice(0)) await o.stop();
  });
  afterAll(async () => {
    await idp.close();
    await t.close();
  });
  const call = caller(() => t, () => admin);
  const readMetadata = (f: SsoPortal, metadataXml: string) => call('POST', `/api/v1/portals/${f.portalId}/sso-providers/saml-metadata`, { metadataXml });

  test('P12 the identity provider’s metadata is read: entity id, sign-in address and its signing certificate, which then saves as a provider', async () => {
    const f = await ssoPortal(t);
    const res = await readMetadata(f, idp.metadataXml);
    expect(res.statusCode, res.body).toBe(200);
    const read = res.json<{ entityId: string; ssoUrl: string; certificates: { pem: string; subject: string; fingerprint: string; expired: boolean; validTo: string }[] }>();
    expect(read.entityId).toBe(idp.entityId);
    expect(read.ssoUrl).toBe(idp.ssoUrl);
    expect(read.certificates).toHaveLength(1);
    expect(read.certificates[0]?.pem.replace(/\s/g, '')).toBe(idp.certificatePem.replace(/\s/g, ''));
    expect(read.certificates[0]?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // What the screen then saves: the fields as read.
    const saved = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'saml', name: 'Acme SAML', settings: { idpEntityId: read.entityId, idpSsoUrl: read.ssoUrl, idpCertificates: read.certificates.map((c) => c.pem) },
    });
    expect(saved.statusCode, saved.body).toBe(201);
    expect(saved.json<{ linkedMembers: number }>().linkedMembers).toBe(0);
  });

  test('P12 metadata that is not XML, holds a DOCTYPE, is a service provider’s, or lacks a certificate is refused at the field in plain words; nothing is saved', async () => {
    const f = await ssoPortal(t);
    const created = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, { kind: 'saml', name: 'Ours', idpMetadataXml: idp.metadataXml });
    const ours = await call('GET', `/api/v1/portals/${f.portalId}/sso-providers/${created.json<{ id: number }>().id}/saml-metadata`);
    expect(ours.statusCode).toBe(200);
    const before = await rowCounts(t);
    const cases: [string, string, RegExp][] = [
      ['not XML', 'this is not xml at all', /not XML metadata/],
      ['broken XML', idp.metadataXml.slice(0, 200), /not XML metadata/],
      ['a DOCTYPE with an entity', `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${idp.metadataXml}`, /document type/],
      ['a DOCTYPE after a comment', `<!-- hi --><!DOCTYPE EntityDescriptor>${idp.metadataXml.replace(/^<\?xml[^>]*>/, '')}`, /document type/],
      ['Portico’s own (a service provider’s)', ours.body, /does not describe an identity provider/],
      ['no signing certificate', idp.metadataXml.replace(/<(\w+:)?KeyDescriptor[\s\S]*<\/(\w+:)?KeyDescriptor>/, ''), /no signing certificate/],
      ['a damaged certificate', idp.metadataXml.replace(/(<(?:\w+:)?X509Certificate>)[A-Za-z0-9+/]{40}/, '$1AAAA'), /damaged/],
      ['empty', '   ', /Paste the metadata/],
    ];
    for (const [what, xml, expected] of cases) {
      const res = await readMetadata(f, xml);
      expect(res.statusCode, what).toBe(400);
      const problem = res.json<Problem>();
      expect(problem.code, what).toBe('VALIDATION_FAILED');
      expect(problem.errors?.map((e) => e.path), what).toEqual(['/body/metadataXml']);
      expect(problem.errors?.[0]?.message, what).toMatch(expected);
      expectPlainWords(problem.errors?.[0]?.message);
    }
    expect(await rowCounts(t)).toEqual(before);
  });

  test('X2 an OpenID Connect issuer is tried before saving: what discovery found (endpoints, scopes, keys), or what is wrong in plain words', async () => {
    const f = await ssoPortal(t);
    const o = await new OidcIdp().start([{ client_id: 'portico', client_secret: 'x'.repeat(32), redirect_uris: ['http://127.0.0.1/cb'] }]);
    oidcIdps.push(o);
    const found = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers/oidc-discovery`, { issuer: o.issuer, scopes: 'openid email profile phone_secret' });
    expect(found.statusCode, found.body).toBe(200);
    const body = found.json<{ issuer: string; authorizationEndpoint: string; tokenEndpoint: string; jwksUri: string; scopesSupported: string[]; signingKeys: number; warnings: string[] }>();
    expect(body.issuer).toBe(o.issuer);
    expect(body.authorizationEndpoint.startsWith(o.issuer)).toBe(true);
    expect(body.tokenEndpoint.startsWith(o.issuer)).toBe(true);
    expect(body.scopesSupported).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));
    expect(body.signingKeys).toBe(1);
    expect(body.warnings).toEqual(['The provider does not list the scope phone_secret, which this provider’s settings ask for.']);

    const cases: [string, number, RegExp][] = [
      // The provider names itself without the slash: the issuer must match exactly.
      [`${o.issuer}/`, 422, /calls itself .* not .*exactly/],
      [`${o.issuer}/realms/nothing-here`, 422, /no OpenID Connect discovery document .*not found/],
      ['http://127.0.0.1:9/', 422, /could not reach the provider: nothing answered at 127\.0\.0\.1:9\./],
      ['ftp://example.com/', 400, /https address/],
      ['not an address', 400, /not a web address/],
    ];
    for (const [issuer, status, expected] of cases) {
      const res = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers/oidc-discovery`, { issuer });
      expect(res.statusCode, issuer).toBe(status);
      const problem = res.json<Problem>();
      expect(problem.errors?.map((e) => e.path), issuer).toEqual(['/body/issuer']);
      expect(problem.errors?.[0]?.message, issuer).toMatch(expected);
      expectPlainWords(problem.errors?.[0]?.message);
    }
  });

  test('X2 P12 a test sign-in through OpenID Connect goes through the real provider and ends without a session: the admin reads who it would sign in', async () => {
    const f = await ssoPortal(t);
    const c = await contactWithTicket(t, f);
    const created = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, { kind: 'oidc', name: 'Acme ID', settings: { issuer: 'http://127.0.0.1:9/', clientId: 'portico' }, secrets: { clientSecret: SECRET } });
    const { id, urls } = created.json<{ id: number; urls: { redirectUri: string } }>();
    const o = await new OidcIdp().start([{ client_id: 'portico', client_secret: SECRET, redirect_uris: [urls.redirectUri] }]);
    oidcIdps.push(o);
    expect((await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { settings: { issuer: o.issuer } })).statusCode).toBe(200);
    o.user = { sub: unique('oidc'), email: c.email, email_verified: true, given_name: 'Sam' };

    const started = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers/${id}/test-sign-ins`);
    expect(started.statusCode, started.body).toBe(201);
    const test1 = started.json<{ id: string; url: string; result: null }>();
    expect(test1.result).toBeNull();
    const link = new URL(test1.url);
    expect(link.hostname).toBe(f.host);
    const before = await rowCounts(t);
    const start = await get(t, f, link.pathname);
    expect(start.statusCode, start.body).toBe(303);
    const proof = cookiesOf(start).portico_sso ?? '';
    const callback = new URL(await followToCallback(String(start.headers.location), urls.redirectUri));
    const end = await t.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, remoteAddress: freshIp(), headers: { host: f.host, cookie: `portico_sso=${proof}` } });
    expect(end.statusCode, end.body).toBe(200);
    expect(end.body).toContain('Test sign-in finished');
    expect(memberCookie(end)).toBeUndefined();
    const after = await rowCounts(t);
    for (const table of ['member_sessions', 'members', 'contacts', 'member_identities'] as const) expect(after[table], table).toBe(before[table]);

    const outcome = await call('GET', `/api/v1/portals/${f.portalId}/sso-providers/${id}/test-sign-ins/${test1.id}`);
    expect(outcome.statusCode, outcome.body).toBe(200);
    expect(outcome.json()).toMatchObject({ url: null, result: { outcome: 'would_sign_in', identity: { subject: o.user.sub, email: c.email, emailVerified: true }, message: `This person would be signed in as Sam Single <${c.email}>.` } });
    // The link works once; another staff user cannot read the outcome.
    expect((await get(t, f, link.pathname)).statusCode).toBe(400);
    const other = await createStaff(t, { permissions: ['portal_settings'] });
    expect((await call('GET', `/api/v1/portals/${f.portalId}/sso-providers/${id}/test-sign-ins/${test1.id}`, undefined, other)).statusCode).toBe(404);
  });

  test('P12 P13 a JWT test sign-in for an address no contact has reports the denial in the admin’s words, and signs nobody in', async () => {
    const f = await ssoPortal(t);
    const created = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'jwt', name: 'Company site', settings: { algorithm: 'HS256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login', emailsVerified: true }, secrets: { sharedSecret: SECRET },
    });
    const id = created.json<{ id: number }>().id;
    const started = (await call('POST', `/api/v1/portals/${f.portalId}/sso-providers/${id}/test-sign-ins`)).json<{ id: string; url: string }>();
    const start = await get(t, f, new URL(started.url).pathname);
    expect(start.statusCode, start.body).toBe(303);
    const returnTo = new URL(String(start.headers.location)).searchParams.get('return_to') ?? '';
    const email = `${unique('nobody')}@example.com`;
    const token = await new SignJWT({ sub: unique('u'), jti: unique('j'), email }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://acme.example').setAudience('portico')
      .setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 60_000)).sign(new TextEncoder().encode(SECRET));
    const before = await rowCounts(t);
    const end = await get(t, f, `/${f.slug}/sso/${id}/jwt?jwt=${token}&return_to=${encodeURIComponent(returnTo)}`, `portico_sso=${cookiesOf(start).portico_sso ?? ''}`);
    expect(end.statusCode, end.body).toBe(200);
    expect(memberCookie(end)).toBeUndefined();
    expect(await rowCounts(t)).toMatchObject({ members: before.members, contacts: before.contacts, member_identities: before.member_identities, member_sessions: before.member_sessions });
    const outcome = (await call('GET', `/api/v1/portals/${f.portalId}/sso-providers/${id}/test-sign-ins/${started.id}`)).json<{ result: { outcome: string; message: string; identity: { email: string } } }>();
    expect(outcome.result).toMatchObject({ outcome: 'denied', identity: { email } });
    expect(outcome.result.message).toBe('No contact has this email address, and this identity provider may not create contacts.');
  });

  test('P12 a test sign-in is refused in plain words while the provider is off', async () => {
    const f = await ssoPortal(t);
    const created = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, { kind: 'saml', name: 'Off', enabled: false, idpMetadataXml: idp.metadataXml });
    const res = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers/${created.json<{ id: number }>().id}/test-sign-ins`);
    expect(res.statusCode).toBe(409);
    expectPlainWords(res.json<Problem>().title);
  });
});

describe.each(dialects)('trying an OpenID Connect issuer without OUTBOUND_ALLOW_PRIVATE on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let internal: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { permissions: ['portal_settings'] });
    internal = createServer((_req, res) => res.end('{}'));
    internal.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    port = (internal.address() as AddressInfo).port;
  });
  afterAll(async () => {
    internal.closeAllConnections();
    await new Promise<void>((resolve) => internal.close(() => { resolve(); }));
    await t.close();
  });

  test('X2 an internal address, written as one or as a name that resolves to this machine, is refused in plain words and never requested', async () => {
    const f = await ssoPortal(t);
    const cases: [string, number, RegExp][] = [
      [`https://127.0.0.1:${port}/`, 400, /on this machine or a private network/],
      ['https://10.1.2.3/realms/acme', 400, /on this machine or a private network/],
      [`http://127.0.0.1:${port}/`, 400, /https address/],
      [`https://localhost:${port}/`, 422, /^The address localhost leads to this machine or a private network/],
    ];
    for (const [issuer, status, expected] of cases) {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/portals/${f.portalId}/sso-providers/oidc-discovery`, headers: admin.auth, payload: { issuer } });
      expect(res.statusCode, issuer).toBe(status);
      const message = res.json<Problem>().errors?.find((e) => e.path === '/body/issuer')?.message;
      expect(message, issuer).toMatch(expected);
      expectPlainWords(message);
    }
    expect(connections).toBe(0);
  });
});
