import type { LightMyRequestResponse } from 'fastify';
import { afterEach, afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cookiesOf } from '../helpers/portal-forms.js';
import { followToCallback, OidcIdp } from '../helpers/oidc-idp.js';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { contactWithTicket, expectRefused, expectSignedIn, freshIp, get, signedInMember, ssoPortal, type SsoPortal } from '../helpers/sso-fixtures.js';

// X2 P12 OpenID Connect: a real OpenID provider (oidc-provider) on loopback; discovery, the code
// flow with PKCE, state and nonce bound to the browser, the issuer checked exactly.

const CLIENT_SECRET = 'portico-client-secret-0123456789';

describe.each(dialects)('OpenID Connect single sign-on on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  const logs: string[] = [];
  const idps: OidcIdp[] = [];
  beforeAll(async () => {
    // The identity providers here listen on loopback, which only this switch lets the server reach.
    t = await createTestApp(dialect, { OUTBOUND_ALLOW_PRIVATE: 'true' }, { logs });
    t.clock.set(Date.now());
    admin = await createStaff(t, { permissions: ['portal_settings'] });
  });
  afterEach(async () => {
    for (const idp of idps.splice(0)) await idp.stop();
  });
  afterAll(async () => {
    await t.close();
  });
  const call = caller(() => t, () => admin);

  interface Rp { f: SsoPortal; id: number; redirectUri: string; idp: OidcIdp }
  /** A portal with an OpenID Connect provider, and the provider itself knowing the portal as its client. */
  async function rp(options: { issuerPath?: string; issuerSuffix?: string; clientSecret?: string; extraClients?: { client_id: string; client_secret: string }[]; createContacts?: boolean } = {}): Promise<Rp> {
    const f = await ssoPortal(t);
    const created = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'oidc', name: 'Acme ID', createContacts: options.createContacts ?? false,
      settings: { issuer: 'http://127.0.0.1:9/', clientId: 'portico' }, secrets: { clientSecret: options.clientSecret ?? CLIENT_SECRET },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id, urls } = created.json<{ id: number; urls: { redirectUri: string } }>();
    const idp = await new OidcIdp().start([
      { client_id: 'portico', client_secret: CLIENT_SECRET, redirect_uris: [urls.redirectUri] },
      ...(options.extraClients ?? []).map((c) => ({ ...c, redirect_uris: [urls.redirectUri] })),
    ], options.issuerPath === undefined ? {} : { issuerPath: options.issuerPath });
    idps.push(idp);
    const patched = await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { settings: { issuer: `${idp.issuer}${options.issuerSuffix ?? ''}` } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.body).not.toContain(CLIENT_SECRET);
    return { f, id, redirectUri: urls.redirectUri, idp };
  }

  /** Starts at the portal, goes through the provider, and returns the callback as our browser would reach it. */
  async function throughProvider(r: Rp, next?: string): Promise<{ callback: URL; proof: string }> {
    const start = await get(t, r.f, `/${r.f.slug}/sso/${r.id}/start${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`);
    expect(start.statusCode, start.body).toBe(303);
    const authorize = new URL(String(start.headers.location));
    expect(authorize.href.startsWith(r.idp.issuer)).toBe(true);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    const proof = cookiesOf(start).portico_sso ?? '';
    expect(proof).not.toBe('');
    return { callback: new URL(await followToCallback(authorize.href, r.redirectUri)), proof };
  }
  const callback = (r: Rp, url: URL, proof?: string): Promise<LightMyRequestResponse> =>
    t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}`, remoteAddress: freshIp(), headers: { host: r.f.host, ...(proof === undefined ? {} : { cookie: `portico_sso=${proof}` }) } });

  test('X2 P12 discovery, code flow with PKCE: a verified address signs the contact in and returns them to the page they asked for', async () => {
    const r = await rp();
    const c = await contactWithTicket(t, r.f);
    r.idp.user = { sub: unique('oidc'), email: c.email, email_verified: true };
    const { callback: url, proof } = await throughProvider(r, `/${r.f.slug}?status=all`);
    expect(url.searchParams.get('iss')).toBe(r.idp.issuer);
    await expectSignedIn(t, r.f, await callback(r, url, proof), `/${r.f.slug}?status=all`, c.subject);
    expect(await t.app.deps.db.selectFrom('member_identities').select(['subject', 'linked_by']).where('provider_id', '=', r.id).execute()).toEqual([{ subject: r.idp.user.sub, linked_by: 'email' }]);
    // The code and state never reach a log line.
    expect(logs.join('\n')).not.toContain(url.searchParams.get('code') ?? 'none');
  });

  test('X2 P12 the callback is refused in another browser, a second time, with a changed state or iss, or when email_verified is false', async () => {
    const r = await rp();
    const c = await contactWithTicket(t, r.f);
    r.idp.user = { sub: unique('oidc'), email: c.email, email_verified: true };

    const other = await throughProvider(r);
    expect((await expectRefused(t, () => callback(r, other.callback), logs, /another browser/)).code).toBe('other_browser');
    const elsewhere = await throughProvider(r);
    await expectRefused(t, () => callback(r, elsewhere.callback, 'someone-elses-proof-0123456789abcdef'), logs, /another browser/);
    // A refused callback used its state up: the flow cannot be tried again from the right browser.
    expect((await expectRefused(t, () => callback(r, elsewhere.callback, elsewhere.proof), logs, /used or expired/)).code).toBe('flow_unknown');

    const twice = await throughProvider(r);
    expect((await callback(r, twice.callback, twice.proof)).statusCode).toBe(303);
    await expectRefused(t, () => callback(r, twice.callback, twice.proof), logs, /used or expired/);

    const state = await throughProvider(r);
    const changed = new URL(state.callback);
    changed.searchParams.set('state', 'x'.repeat(43));
    await expectRefused(t, () => callback(r, changed, state.proof), logs, /used or expired/);

    const mixup = await throughProvider(r);
    const iss = new URL(mixup.callback);
    iss.searchParams.set('iss', 'https://evil.example');
    await expectRefused(t, () => callback(r, iss, mixup.proof), logs, /iss/);

    r.idp.user = { sub: unique('oidc'), email: c.email, email_verified: false };
    const unverified = await throughProvider(r);
    await expectRefused(t, () => callback(r, unverified.callback, unverified.proof), logs, /does not vouch/, 403);
  });

  test('X2 P12 the issuer is checked exactly at discovery; a wrong client secret and a code issued to another client are refused at the token endpoint', async () => {
    // The provider is https://…/realms/acme; an admin who typed …/realms/acme/ gets no sign-in.
    const slash = await rp({ issuerPath: '/realms/acme', issuerSuffix: '/' });
    await expectRefused(t, () => get(t, slash.f, `/${slash.f.slug}/sso/${slash.id}/start`), logs, /discovery failed/);

    const wrong = await rp({ clientSecret: 'not-the-secret-at-the-provider' });
    wrong.idp.user = { sub: unique('oidc'), email: 'w@example.com', email_verified: true };
    const w = await throughProvider(wrong);
    await expectRefused(t, () => callback(wrong, w.callback, w.proof), logs, /invalid_client|WWW_AUTHENTICATE_CHALLENGE/);

    // Code injection: a code the provider gave another client, delivered to our callback with our state.
    const r = await rp({ extraClients: [{ client_id: 'intruder', client_secret: 'intruder-secret-0123456789' }] });
    const c = await contactWithTicket(t, r.f);
    r.idp.user = { sub: unique('oidc'), email: c.email, email_verified: true };
    const ours = await throughProvider(r);
    const theirs = new URL(`${r.idp.issuer}/auth`);
    for (const [k, v] of Object.entries({ client_id: 'intruder', response_type: 'code', scope: 'openid email', redirect_uri: r.redirectUri, state: ours.callback.searchParams.get('state') ?? '', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', nonce: 'n' })) theirs.searchParams.set(k, v);
    const injected = new URL(await followToCallback(theirs.href, r.redirectUri));
    await expectRefused(t, () => callback(r, injected, ours.proof), logs, /invalid_grant|grant/i);
  });

  test('X2 P12 the ID token’s signature is checked against the provider’s published keys: a token signed by a key not in its JWKS is refused', async () => {
    const r = await rp();
    const c = await contactWithTicket(t, r.f);
    r.idp.user = { sub: unique('oidc'), email: c.email, email_verified: true };
    r.idp.publishesForeignKey = true;
    const forged = await throughProvider(r);
    const refusal = await expectRefused(t, () => callback(r, forged.callback, forged.proof), logs, /signature/i);
    expect(refusal.code).toBe('proof_invalid');
    // Tokens signed by a published key go through: every other test here signs in that way.
  });

  test('X2 P12 a provider re-pointed at another issuer loses its sign-in links, and the answer says so: subject X of the new issuer never signs in as the old issuer’s X', async () => {
    const r = await rp();
    const c = await contactWithTicket(t, r.f);
    const sub = unique('same-subject');
    r.idp.user = { sub, email: c.email, email_verified: true };
    const first = await throughProvider(r);
    await expectSignedIn(t, r.f, await callback(r, first.callback, first.proof), `/${r.f.slug}`, c.subject);

    // Another provider, where the same subject is someone else.
    const other = await new OidcIdp().start([{ client_id: 'portico', client_secret: CLIENT_SECRET, redirect_uris: [r.redirectUri] }]);
    idps.push(other);
    other.user = { sub, email: `${unique('someone-else')}@example.com`, email_verified: true };
    const repointed = await call('PATCH', `/api/v1/portals/${r.f.portalId}/sso-providers/${r.id}`, { settings: { issuer: other.issuer } });
    expect(repointed.statusCode, repointed.body).toBe(200);
    expect(repointed.json<{ warnings: string[] }>().warnings).toEqual(['The issuer changed, so 1 sign-in link made through the old one was removed: that member is linked again at their next sign-in, when the provider vouches for their email address.']);
    expect(await t.app.deps.db.selectFrom('member_identities').select('id').where('provider_id', '=', r.id).execute()).toEqual([]);
    const moved = { ...r, idp: other };
    const next = await throughProvider(moved);
    const denied = await expectRefused(t, () => callback(moved, next.callback, next.proof), logs, /no contact has this address/, 403);
    expect(denied.code).toBe('no_contact');

    // Any other change keeps the links, and says nothing.
    other.user = { sub, email: c.email, email_verified: true };
    const relinked = await throughProvider(moved);
    await expectSignedIn(t, r.f, await callback(moved, relinked.callback, relinked.proof), `/${r.f.slug}`, c.subject);
    const renamed = await call('PATCH', `/api/v1/portals/${r.f.portalId}/sso-providers/${r.id}`, { name: 'Renamed', settings: { issuer: other.issuer, scopes: 'openid email' } });
    expect(renamed.json<{ warnings: string[] }>().warnings).toEqual([]);
    expect(await t.app.deps.db.selectFrom('member_identities').select('subject').where('provider_id', '=', r.id).execute()).toEqual([{ subject: sub }]);
  });

  test('X2 P12 a browser signed in as one member that completes a sign-in as another is asked before it switches', async () => {
    const r = await rp();
    const [a, b] = [await contactWithTicket(t, r.f), await contactWithTicket(t, r.f)];
    const browser = await signedInMember(t, r.f, a.contactId);
    r.idp.user = { sub: unique('oidc'), email: b.email, email_verified: true };
    const start = await get(t, r.f, `/${r.f.slug}/sso/${r.id}/start`, browser);
    const proof = cookiesOf(start).portico_sso ?? '';
    const url = new URL(await followToCallback(String(start.headers.location), r.redirectUri));
    const asked = await t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}`, remoteAddress: freshIp(), headers: { host: r.f.host, cookie: `${browser}; portico_sso=${proof}` } });
    expect(asked.statusCode, asked.body).toBe(200);
    expect(asked.body).toContain('Switch accounts?');
    expect(cookiesOf(asked).portico_member).toBeUndefined();
    expect((await get(t, r.f, `/${r.f.slug}`, browser)).body).toContain(a.subject);
  });

  test('X2 P12 the client secret is sealed and never returned; a provider without it is a public client', async () => {
    const r = await rp();
    const got = await call('GET', `/api/v1/portals/${r.f.portalId}/sso-providers/${r.id}`);
    expect(got.json()).toMatchObject({ kind: 'oidc', secretsSet: ['clientSecret'], settings: { issuer: r.idp.issuer, clientId: 'portico', scopes: 'openid email profile' } });
    expect(got.body).not.toContain(CLIENT_SECRET);
    const row = await t.app.deps.db.selectFrom('sso_providers').select('secrets').where('id', '=', r.id).executeTakeFirstOrThrow();
    expect(row.secrets).not.toContain(CLIENT_SECRET);
    const cleared = await call('PATCH', `/api/v1/portals/${r.f.portalId}/sso-providers/${r.id}`, { secrets: { clientSecret: null } });
    expect(cleared.json()).toMatchObject({ secretsSet: [] });
    const badIssuer = await call('PATCH', `/api/v1/portals/${r.f.portalId}/sso-providers/${r.id}`, { settings: { issuer: 'http://evil.example/' } });
    expect(badIssuer.statusCode).toBe(400);
    expect(badIssuer.json().errors[0].path).toBe('/body/settings/issuer');
  });
});
