import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, importPKCS8, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { cookiesOf } from '../helpers/portal-forms.js';
import { readSamlFixture } from '../helpers/saml-idp.js';
import { contactWithTicket, csrfOf, expectRefused, expectSignedIn, formOf, freshIp, get, memberCookie, signedInMember, ssoPortal, type SsoPortal } from '../helpers/sso-fixtures.js';

// P12 JWT single sign-on: the company's site signs a short-lived token (HS256 with a shared
// secret, RS256 with a public key, ES256 with a JWKS served over real HTTP) and sends the
// customer to the portal; every forged or stale token is refused with no session, and logged.

const SECRET = 'a-shared-secret-of-the-company-site-0123456789';

describe.each(dialects)('JWT single sign-on on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  const logs: string[] = [];
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
  let jwks: Server;
  let jwksUrl = '';
  beforeAll(async () => {
    // The JWKS here is served on loopback, which only this switch lets the server reach.
    t = await createTestApp(dialect, { OUTBOUND_ALLOW_PRIVATE: 'true' }, { logs });
    // jose checks times against this clock; the test never sleeps, it moves the clock.
    t.clock.set(Date.now());
    admin = await createStaff(t, { permissions: ['portal_settings'] });
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => jwks.close(() => { resolve(); }));
    await t.close();
  });
  const call = caller(() => t, () => admin);

  async function provider(f: SsoPortal, settings: Record<string, unknown>, secrets: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<number> {
    const res = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'jwt', name: 'Acme accounts', settings: { issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login', ...settings }, secrets, ...extra,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: number }>().id;
  }
  const claims = (over: Record<string, unknown> = {}) => ({ sub: unique('u'), jti: unique('j'), email_verified: true, ...over });
  const hs = (payload: Record<string, unknown>, header: Record<string, unknown> = {}, secret = SECRET) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...header }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 120_000)).sign(new TextEncoder().encode(secret));
  const jwtUrl = (f: SsoPortal, id: number, token: string, returnTo?: string) => `/${f.slug}/sso/${id}/jwt?jwt=${token}${returnTo === undefined ? '' : `&return_to=${encodeURIComponent(returnTo)}`}`;
  /**
   * A browser (holding `cookie`) starts a sign-in at the portal: the company's site gets a
   * return_to that names it, and the browser a proof cookie. Returns both, the cookies as a header.
   */
  async function startAt(f: SsoPortal, id: number, next?: string, cookie?: string): Promise<{ returnTo: string; browser: string }> {
    const res = await get(t, f, `/${f.slug}/sso/${id}/start${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`, cookie);
    expect(res.statusCode, res.body).toBe(303);
    const location = new URL(String(res.headers.location));
    const returnTo = location.searchParams.get('return_to') ?? '';
    expect(returnTo).toMatch(new RegExp(`^/${f.slug}/sso/${id}/jwt/return/[A-Za-z0-9_-]{43}$`));
    const proof = cookiesOf(res).portico_sso ?? '';
    expect(proof).not.toBe('');
    return { returnTo, browser: [cookie, `portico_sso=${proof}`].filter((c) => c !== undefined).join('; ') };
  }
  /** The round trip in one browser: it starts at the portal, and the company's site sends it back with the token and the return_to it was given. */
  async function viaPortal(f: SsoPortal, id: number, token: string, options: { next?: string; cookie?: string; extra?: string } = {}) {
    const { returnTo, browser } = await startAt(f, id, options.next, options.cookie);
    return get(t, f, `${jwtUrl(f, id, token, returnTo)}${options.extra ?? ''}`, browser);
  }

  test('P12 HS256: a token for a known contact signs them in and returns to the page they asked for; the secret is sealed and never returned', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256', emailsVerified: false }, { sharedSecret: SECRET });
    const got = await call('GET', `/api/v1/portals/${f.portalId}/sso-providers/${id}`);
    expect(got.body).not.toContain(SECRET);
    expect(got.json()).toMatchObject({ kind: 'jwt', secretsSet: ['sharedSecret'], urls: { callback: expect.stringMatching(new RegExp(`/${f.slug}/sso/${id}/jwt$`)) } });
    const stored = await t.app.deps.db.selectFrom('sso_providers').select('secrets').where('id', '=', id).executeTakeFirstOrThrow();
    expect(stored.secrets).toMatch(/^v1\./);
    expect(stored.secrets).not.toContain(SECRET);

    // The start sends the customer to the company's sign-in with a return_to that names this
    // sign-in (the page to come back to stays with the portal).
    const start = await get(t, f, `/${f.slug}/sso/${id}/start?next=${encodeURIComponent(`/${f.slug}/42`)}`);
    expect(start.statusCode).toBe(303);
    expect(start.headers.location).toMatch(new RegExp(`^https://acme\\.example/login\\?return_to=${encodeURIComponent(`/${f.slug}/sso/${id}/jwt/return/`)}[A-Za-z0-9_-]{43}$`));

    const c = await contactWithTicket(t, f);
    const res = await viaPortal(f, id, await hs(claims({ email: c.email })), { next: `/${f.slug}?status=open` });
    await expectSignedIn(t, f, res, `/${f.slug}?status=open`, c.subject);
    const identity = await t.app.deps.db.selectFrom('member_identities').selectAll().where('provider_id', '=', id).executeTakeFirstOrThrow();
    expect(identity).toMatchObject({ linked_by: 'email', email: c.email });
    // The token in the address never reaches a log line.
    expect(logs.join('\n')).not.toMatch(/jwt=ey/);
  });

  test('P12 X2 a browser signed in as one member is never switched by a token it did not ask for: an attacker’s genuine unused token (a GET, or a cross-site POST) and an unsolicited one are refused', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const victim = await contactWithTicket(t, f);
    const victimBrowser = await signedInMember(t, f, victim.contactId);
    const attacker = await contactWithTicket(t, f);
    /** The attacker starts a sign-in in their own browser and keeps the genuine token the company's site gives them. */
    const attackersOwn = async () => {
      const start = await get(t, f, `/${f.slug}/sso/${id}/start`);
      return { returnTo: new URL(String(start.headers.location)).searchParams.get('return_to') ?? '', token: await hs(claims({ sub: 'attacker', email: attacker.email })) };
    };
    // Loaded in the victim's browser (a link, an image, a redirect): refused.
    const linked = await attackersOwn();
    const loaded = await expectRefused(t, () => get(t, f, jwtUrl(f, id, linked.token, linked.returnTo), victimBrowser), logs, /started in another browser/);
    expect(loaded.code).toBe('other_browser');
    // Posted across sites: the POST carries no cookie, and the portal's own GET that follows, in
    // the victim's browser, is refused alike.
    const posted = await attackersOwn();
    const post = await t.app.inject({
      method: 'POST', url: `/${f.slug}/sso/${id}/jwt`, remoteAddress: freshIp(), headers: { host: f.host, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `jwt=${posted.token}&return_to=${encodeURIComponent(posted.returnTo)}`,
    });
    expect(memberCookie(post)).toBeUndefined();
    await expectRefused(t, () => get(t, f, String(post.headers.location), victimBrowser), logs, /started in another browser/);
    // Without the return_to the portal gave: a token nobody asked for, refused by a provider that does not accept those.
    const unsolicited = await expectRefused(t, async () => get(t, f, jwtUrl(f, id, await hs(claims({ sub: 'attacker', email: attacker.email }))), victimBrowser), logs, /does not accept tokens sent unasked/);
    expect(unsolicited.code).toBe('unsolicited');
    // The victim is still the victim.
    const list = await get(t, f, `/${f.slug}`, victimBrowser);
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(victim.subject);
    expect(list.body).not.toContain(attacker.subject);
  });

  test('P12 X2 where the provider accepts tokens sent unasked, a browser signed in as another member is asked first: only a POST with the session’s CSRF token and a single-use key bound to this browser switches it', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256', allowUnsolicited: true }, { sharedSecret: SECRET });
    const victim = await contactWithTicket(t, f);
    const other = await t.app.services.contacts.create({ email: `${unique('mallory')}@example.com`, firstName: 'Mallory', lastName: 'Other' });
    const othersTicket = `Mallory’s own ${unique('t')}`;
    await t.app.services.tickets.create({ subject: othersTicket, pipelineId: f.pipelineId, contactIds: [other.id] }, null);
    const victimBrowser = await signedInMember(t, f, victim.contactId);
    const ask = async () => {
      const before = await rowCounts(t);
      const asked = await get(t, f, jwtUrl(f, id, await hs(claims({ sub: 'mallory', email: other.email }))), victimBrowser);
      expect(asked.statusCode, asked.body).toBe(200);
      expect(memberCookie(asked)).toBeUndefined();
      expect(asked.body).toContain('This browser is signed in as Sam Single. The sign-in you just finished is for Mallory Other.');
      expect(asked.body).toContain(`<a href="/${f.slug}">Stay signed in as Sam Single</a>`);
      expect(asked.body).toContain('>Continue as Mallory Other</button>');
      // Nothing changed yet: no link, member or session.
      const after = await rowCounts(t);
      for (const table of ['member_sessions', 'members', 'contacts', 'member_identities'] as const) expect(after[table], table).toBe(before[table]);
      const form = formOf(asked.body);
      expect(form.action).toBe(`/${f.slug}/sso/${id}/switch`);
      return form.fields;
    };
    const answer = (fields: Record<string, string>, cookie?: string) => t.app.inject({
      method: 'POST', url: `/${f.slug}/sso/${id}/switch`, remoteAddress: freshIp(),
      headers: { host: f.host, 'content-type': 'application/x-www-form-urlencoded', ...(cookie === undefined ? {} : { cookie }) }, payload: new URLSearchParams(fields).toString(),
    });

    const first = await ask();
    expect(first.csrf).toBe(await csrfOf(t, victimBrowser));
    // A forged answer, without the session's CSRF token: refused, and the key is not spent.
    expect((await answer({ ...first, csrf: 'forged' }, victimBrowser)).statusCode).toBe(403);
    expect((await answer(first)).statusCode).toBe(403);
    // Another browser, with a session and a CSRF token of its own: the key is not its.
    const elsewhere = await signedInMember(t, f, (await contactWithTicket(t, f)).contactId);
    const stolen = await expectRefused(t, async () => answer({ ...first, csrf: await csrfOf(t, elsewhere) }, elsewhere), logs, /another browser’s/);
    expect(stolen.code).toBe('flow_unknown');

    // The holder of the victim's browser chooses to continue: the other member now, the victim's session ended.
    const second = await ask();
    const switched = await answer(second, victimBrowser);
    const othersBrowser = await expectSignedIn(t, f, switched, `/${f.slug}`, othersTicket);
    expect((await get(t, f, `/${f.slug}`, victimBrowser)).headers.location).toMatch(new RegExp(`^/${f.slug}/sign-in`));
    // The key is used once.
    await expectRefused(t, async () => answer({ ...second, csrf: await csrfOf(t, othersBrowser) }, othersBrowser), logs, /unknown, used or expired confirmation/);
    // The same member signing in again is asked nothing; a browser signed in as nobody is signed in
    // at once (the risk of accepting tokens sent unasked, which the README spells out).
    await expectSignedIn(t, f, await get(t, f, jwtUrl(f, id, await hs(claims({ sub: 'mallory', email: other.email }))), othersBrowser), `/${f.slug}`, othersTicket);
    await expectSignedIn(t, f, await get(t, f, jwtUrl(f, id, await hs(claims({ sub: 'mallory', email: other.email })))), `/${f.slug}`, othersTicket);
  });

  test('P12 an identity is its (provider, subject): the same subject later with another address is the same member; another subject with the member’s address is linked only when verified', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const c = await contactWithTicket(t, f);
    const sub = unique('stable');
    await expectSignedIn(t, f, await viaPortal(f, id, await hs(claims({ sub, email: c.email }))), `/${f.slug}`, c.subject);
    // The address changed at the company: still the same member, by subject.
    await expectSignedIn(t, f, await viaPortal(f, id, await hs(claims({ sub, email: 'renamed@elsewhere.example', email_verified: false }))), `/${f.slug}`, c.subject);
    // Another subject claiming the contact's address without vouching for it: refused.
    await expectRefused(t, async () => viaPortal(f, id, await hs(claims({ email: c.email, email_verified: false }))), logs, /does not vouch/, 403);
    const identities = await t.app.deps.db.selectFrom('member_identities').select('subject').where('provider_id', '=', id).execute();
    expect(identities.map((i) => i.subject)).toEqual([sub]);
  });

  test('P12 one member holds at most one subject per provider: a second, new subject with the member’s verified address is refused, never linked to that member', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const c = await contactWithTicket(t, f);
    const owner = unique('owner');
    await expectSignedIn(t, f, await viaPortal(f, id, await hs(claims({ sub: owner, email: c.email }))), `/${f.slug}`, c.subject);
    const swap = await expectRefused(t, async () => viaPortal(f, id, await hs(claims({ sub: unique('intruder'), email: c.email }))), logs, /already signs in with another subject of this provider/, 403);
    expect(swap.code).toBe('subject_conflict');
    const identities = await t.app.deps.db.selectFrom('member_identities').select(['subject', 'member_id']).where('provider_id', '=', id).execute();
    expect(identities.map((i) => i.subject)).toEqual([owner]);
    // The database holds the rule as well: (provider, member) is unique.
    const memberId = identities[0]?.member_id ?? 0;
    await expect(t.app.deps.db.insertInto('member_identities').values({ provider_id: id, subject: unique('raw'), member_id: memberId, email: c.email, linked_by: 'email', created_at: t.clock.now(), last_sign_in_at: null }).execute()).rejects.toThrow();
    // The owner's subject still signs in.
    await expectSignedIn(t, f, await viaPortal(f, id, await hs(claims({ sub: owner, email: c.email }))), `/${f.slug}`, c.subject);
  });

  test('P12 a JWT provider whose issuer changes loses its sign-in links, and the answer says how many', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const [a, b] = [await contactWithTicket(t, f), await contactWithTicket(t, f)];
    for (const c of [a, b]) await expectSignedIn(t, f, await viaPortal(f, id, await hs(claims({ sub: `${c.email}-sub`, email: c.email }))), `/${f.slug}`, c.subject);
    const before = await t.app.services.sso.get(f.portalId, id);
    const kept = await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { settings: { maxAgeSeconds: 120, issuer: 'https://acme.example' } });
    expect(kept.json<{ warnings: string[] }>().warnings).toEqual([]);
    // A sign-in verified under the settings before a change does not land after it.
    const portal = await t.app.services.portals.get(f.portalId);
    await expect(t.app.services.sso.signIn(portal, before, { subject: `${a.email}-sub`, email: a.email, emailVerified: true, firstName: null, lastName: null }, { ip: '10.0.0.1', userAgent: undefined }))
      .rejects.toMatchObject({ code: 'provider_changed' });
    const moved = await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { settings: { issuer: 'https://accounts.other.example' } });
    expect(moved.json<{ warnings: string[] }>().warnings).toEqual(['The issuer changed, so 2 sign-in links made through the old one were removed: those members are linked again at their next sign-in, when the provider vouches for their email address.']);
    const token = await new SignJWT(claims({ sub: `${a.email}-sub`, email: `${unique('other')}@example.com` })).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://accounts.other.example').setAudience('portico')
      .setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 60_000)).sign(new TextEncoder().encode(SECRET));
    await expectRefused(t, () => viaPortal(f, id, token), logs, /no contact has this address/, 403);
  });

  test('P12 a new subject with a verified address gets a contact only where the provider may create them; P13 only contacts on the SSO lists; P10 access lists still apply', async () => {
    const s = t.app.services;
    const listed = await s.contacts.create({ email: `${unique('l')}@example.com` });
    const list = await s.lists.create({ name: unique('L'), kind: 'static' });
    await s.lists.addMembers(list.id, [listed.id]);

    const f = await ssoPortal(t);
    const closed = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const email = `${unique('new')}@example.com`;
    const token = await hs(claims({ email, given_name: 'Nina', family_name: 'New' }));
    await expectRefused(t, () => viaPortal(f, closed, token), logs, /may not create contacts/, 403);

    const open = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET }, { createContacts: true });
    const res = await viaPortal(f, open, await hs(claims({ email, given_name: 'Nina', family_name: 'New' })));
    expect(res.statusCode).toBe(303);
    const contact = await s.contacts.findByEmail(email);
    expect(contact).toMatchObject({ first_name: 'Nina', last_name: 'New' });
    expect(await t.app.deps.db.selectFrom('member_identities').select('linked_by').where('provider_id', '=', open).executeTakeFirst()).toEqual({ linked_by: 'created' });

    // P13: only contacts on the portal's SSO lists.
    const g = await ssoPortal(t, { ssoAudience: 'lists', ssoListIds: [list.id] });
    const gp = await provider(g, { algorithm: 'HS256' }, { sharedSecret: SECRET }, { createContacts: true });
    const outsider = await contactWithTicket(t, g);
    await expectRefused(t, async () => viaPortal(g, gp, await hs(claims({ email: outsider.email }))), logs, /SSO lists|single sign-on lists/, 403);
    expect((await viaPortal(g, gp, await hs(claims({ email: listed.email })))).statusCode).toBe(303);
    // A brand-new contact cannot be on a static list: refused, and nothing of it is kept.
    const stranger = `${unique('x')}@example.com`;
    await expectRefused(t, async () => viaPortal(g, gp, await hs(claims({ email: stranger }))), logs, /single sign-on lists/, 403);
    expect(await s.contacts.findByEmail(stranger)).toBeUndefined();

    // P10: a portal's access lists bind SSO members too.
    const h = await ssoPortal(t, { accessListIds: [list.id] });
    const hp = await provider(h, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    await expectRefused(t, async () => viaPortal(h, hp, await hs(claims({ email: outsider.email }))), logs, /access lists/, 403);
  });

  test('P12 after sign-in the customer returns only to a path on the portal: another host, another portal’s path and scheme-relative addresses go home', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const c = await contactWithTicket(t, f);
    const sub = unique('u');
    for (const evil of ['https://evil.example/phish', '//evil.example', `/other/${f.slug}`, `/${f.slug}evil`, '/\\evil.example']) {
      const r = await viaPortal(f, id, await hs(claims({ sub, email: c.email })), { next: evil });
      expect(r.statusCode).toBe(303);
      expect(r.headers.location, evil).toBe(`/${f.slug}`);
    }
    // Where the provider sends tokens unasked, return_to itself names the page: the same rule.
    const open = await provider(f, { algorithm: 'HS256', allowUnsolicited: true }, { sharedSecret: SECRET });
    for (const evil of ['https://evil.example/phish', '//evil.example', `/other/${f.slug}`]) {
      const r = await get(t, f, jwtUrl(f, open, await hs(claims({ sub: `${sub}-open`, email: c.email })), evil));
      expect(r.statusCode, r.body).toBe(303);
      expect(r.headers.location, evil).toBe(`/${f.slug}`);
    }
  });

  test('P12 forged and stale tokens are refused with no session and logged: alg none, algorithm confusion, keys in the header, another key, expired, too old, from the future, wrong issuer or audience, reused jti', async () => {
    const f = await ssoPortal(t);
    const c = await contactWithTicket(t, f);
    const hsId = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const publicPem = await exportSPKI(rsa.publicKey);
    const rsId = await provider(f, { algorithm: 'RS256', publicKey: publicPem });
    const now = t.clock.now();
    const base = claims({ email: c.email });
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const cases: [string, () => Promise<{ id: number; token: string }>, RegExp][] = [
      ['alg none', () => Promise.resolve({ id: hsId, token: new UnsecuredJWT({ ...claims({ email: c.email }), iat: Math.floor(now / 1000) }).setIssuer('https://acme.example').setAudience('portico').encode() }), /algorithm none/],
      ['HS256 signed with the RSA public key as secret', async () => ({ id: rsId, token: await hs(claims({ email: c.email }), {}, publicPem) }), /algorithm HS256 is not the configured RS256/],
      ['RS256 by another key', async () => ({ id: rsId, token: await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(now)).setExpirationTime(new Date(now + 120_000)).sign(attacker.privateKey) }), /signature verification failed/],
      ['its own key in a jwk header', async () => ({ id: rsId, token: await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'RS256', jwk: await exportJWK(attacker.publicKey) }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(now)).setExpirationTime(new Date(now + 120_000)).sign(attacker.privateKey) }), /header parameter jwk/],
      ['a jku header', async () => ({ id: hsId, token: await hs(claims({ email: c.email }), { jku: 'https://evil.example/jwks' }) }), /header parameter jku/],
      ['an x5u header', async () => ({ id: hsId, token: await hs(claims({ email: c.email }), { x5u: 'https://evil.example/cert' }) }), /header parameter x5u/],
      ['expired', async () => ({ id: hsId, token: await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(now - 120_000)).setExpirationTime(new Date(now - 60_000)).sign(new TextEncoder().encode(SECRET)) }), /"exp" claim/],
      ['iat older than allowed', async () => ({ id: hsId, token: await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(now - 10 * 60_000)).setExpirationTime(new Date(now + 120_000)).sign(new TextEncoder().encode(SECRET)) }), /"iat" claim|too old|maxTokenAge/],
      ['iat in the future', async () => ({ id: hsId, token: await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(now + 10 * 60_000)).setExpirationTime(new Date(now + 120_000)).sign(new TextEncoder().encode(SECRET)) }), /iat/],
      ['another issuer', async () => ({ id: hsId, token: await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://evil.example').setAudience('portico').setIssuedAt(new Date(now)).setExpirationTime(new Date(now + 120_000)).sign(new TextEncoder().encode(SECRET)) }), /"iss" claim/],
      ['another audience', async () => ({ id: hsId, token: await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://acme.example').setAudience('someone-else').setIssuedAt(new Date(now)).setExpirationTime(new Date(now + 120_000)).sign(new TextEncoder().encode(SECRET)) }), /"aud" claim/],
      ['no jti', async () => ({ id: hsId, token: await hs({ sub: unique('u'), email: c.email, email_verified: true }) }), /"jti" claim/],
      ['not a JWT', () => Promise.resolve({ id: hsId, token: 'not.a.jwt' }), /not a JWS/],
    ];
    for (const [name, make, reason] of cases) {
      const { id, token } = await make();
      await expectRefused(t, () => get(t, f, jwtUrl(f, id, token)), logs, reason).catch((error: unknown) => {
        throw new Error(`${name}: ${String(error)}`);
      });
    }
    // A good token works once; the same jti again is a replay.
    const good = await hs(base);
    await expectSignedIn(t, f, await viaPortal(f, hsId, good), `/${f.slug}`, c.subject);
    await expectRefused(t, () => viaPortal(f, hsId, good), logs, /jti reused/);
  });

  test('P12 a used token is refused on another portal’s provider with the same secret, issuer and audience: used ids are kept by issuer and jti, whichever provider saw them', async () => {
    const f = await ssoPortal(t);
    const g = await ssoPortal(t);
    const first = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const second = await provider(g, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const c = await contactWithTicket(t, f);
    const token = await hs(claims({ email: c.email }));
    await expectSignedIn(t, f, await viaPortal(f, first, token), `/${f.slug}`, c.subject);
    const replay = await expectRefused(t, () => viaPortal(g, second, token), logs, /jti reused/);
    expect(replay.code).toBe('replayed');
    // The provider that saw it gone, the id is still remembered until the token expires.
    expect((await call('DELETE', `/api/v1/portals/${f.portalId}/sso-providers/${first}`)).statusCode).toBe(204);
    await expectRefused(t, () => viaPortal(g, second, token), logs, /jti reused/);
  });

  test('P12 a token without exp is refused; unknown parameters on the callback (utm_source, …) are ignored', async () => {
    const f = await ssoPortal(t);
    const id = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    const c = await contactWithTicket(t, f);
    const noExp = await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://acme.example').setAudience('portico')
      .setIssuedAt(new Date(t.clock.now())).sign(new TextEncoder().encode(SECRET));
    const refusal = await expectRefused(t, () => get(t, f, jwtUrl(f, id, noExp)), logs, /missing required "exp" claim/);
    expect(refusal.code).toBe('proof_invalid');
    const tagged = await viaPortal(f, id, await hs(claims({ email: c.email })), { extra: '&utm_source=newsletter&utm_campaign=spring' });
    await expectSignedIn(t, f, tagged, `/${f.slug}`, c.subject);
  });

  test('P12 RS256 with a public key and ES256 with a JWKS over HTTP sign in; the POST form works like the link', async () => {
    const f = await ssoPortal(t);
    const c = await contactWithTicket(t, f);
    const rsId = await provider(f, { algorithm: 'RS256', publicKey: await exportSPKI(rsa.publicKey) });
    const esId = await provider(f, { algorithm: 'ES256', jwksUrl });
    const rs = await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 120_000)).sign(rsa.privateKey);
    await expectSignedIn(t, f, await viaPortal(f, rsId, rs), `/${f.slug}`, c.subject);
    const es = await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 120_000)).sign(ec.privateKey);
    // The company's site may post a form instead: a cross-site POST carries no cookie of the
    // browser's, so the portal holds the verified token and finishes in a GET of its own.
    const { returnTo, browser } = await startAt(f, esId, `/${f.slug}?status=closed`);
    const posted = await t.app.inject({
      method: 'POST', url: `/${f.slug}/sso/${esId}/jwt`, remoteAddress: freshIp(), headers: { host: f.host, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `jwt=${es}&return_to=${encodeURIComponent(returnTo)}&utm_source=mail`,
    });
    expect(posted.statusCode, posted.body).toBe(303);
    expect(memberCookie(posted)).toBeUndefined();
    const onward = String(posted.headers.location);
    expect(onward).toMatch(new RegExp(`^/${f.slug}/sso/${esId}/continue/[A-Za-z0-9_-]{43}$`));
    await expectSignedIn(t, f, await get(t, f, onward, browser), `/${f.slug}?status=closed`, c.subject);
    // The held sign-in is used once.
    expect((await expectRefused(t, () => get(t, f, onward, browser), logs, /unknown, used or expired sign-in/)).code).toBe('flow_unknown');
  });

  test('P12 a certificate given as the RS256 public key is accepted: its public key is kept, the answer says so, and tokens signed by its private key sign in; a private key is refused', async () => {
    const f = await ssoPortal(t);
    const c = await contactWithTicket(t, f);
    const certificate = readSamlFixture('idp-cert.pem');
    const created = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'jwt', name: 'Certificate', settings: { algorithm: 'RS256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login', publicKey: certificate },
    });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json<{ id: number; settings: { publicKey: string }; warnings: string[] }>();
    expect(body.settings.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(body.warnings).toEqual(['The certificate’s public key was saved in its place: tokens are checked with that key, whatever the certificate’s expiry or issuer.']);
    const signer = await importPKCS8(readSamlFixture('idp-key.pem'), 'RS256');
    const token = await new SignJWT(claims({ email: c.email })).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://acme.example').setAudience('portico')
      .setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 120_000)).sign(signer);
    await expectSignedIn(t, f, await viaPortal(f, body.id, token), `/${f.slug}`, c.subject);

    const leaked = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'jwt', name: 'Private', settings: { algorithm: 'RS256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login', publicKey: `${readSamlFixture('idp-key.pem')}${await exportSPKI(rsa.publicKey)}` },
    });
    expect(leaked.statusCode).toBe(400);
    expect(leaked.json()).toMatchObject({ errors: [{ path: '/body/settings/publicKey', message: 'This is a private key: paste only the public key or the certificate.' }] });
    expect(leaked.body).not.toContain('PRIVATE KEY');
  });

  test('P4 P12 a portal that signs in by SSO alone cannot be enabled before it has an enabled provider', async () => {
    const p = await t.app.services.portals.create({ name: 'SSO only', domain: `${unique('only').toLowerCase()}.example.com`, consentText: 'ok', signInMethods: ['sso'] });
    const portal = await call('GET', `/api/v1/portals/${p.id}`);
    expect(portal.json().missing).toEqual(['Add an enabled single sign-on provider, or choose another sign-in method.']);
    const refused = await call('PATCH', `/api/v1/portals/${p.id}`, { enabled: true });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'PORTAL_INCOMPLETE', errors: [{ path: '/body/signInMethods' }] });
    const created = await call('POST', `/api/v1/portals/${p.id}/sso-providers`, {
      kind: 'jwt', name: 'Acme', settings: { algorithm: 'HS256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login' }, secrets: { sharedSecret: SECRET },
    });
    expect(created.statusCode).toBe(201);
    expect((await call('GET', `/api/v1/portals/${p.id}`)).json().missing).toEqual([]);
    expect((await call('PATCH', `/api/v1/portals/${p.id}`, { enabled: true })).statusCode).toBe(200);
  });

  test('P12 the admin API validates each setting with a clear 4xx, needs the portal settings permission, and a disabled provider or a portal without SSO answers 404', async () => {
    const f = await ssoPortal(t);
    const bad = async (body: Record<string, unknown>, path: string) => {
      const res = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, { kind: 'jwt', name: 'X', ...body });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toContain(path);
    };
    const settings = { issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login' };
    await bad({ settings: { ...settings, algorithm: 'HS256' } }, '/body/secrets/sharedSecret');
    await bad({ settings: { ...settings, algorithm: 'HS256' }, secrets: { sharedSecret: 'short' } }, '/body/secrets/sharedSecret');
    await bad({ settings: { ...settings, algorithm: 'RS256' } }, '/body/settings/publicKey');
    await bad({ settings: { ...settings, algorithm: 'ES256', publicKey: await exportSPKI(rsa.publicKey) } }, '/body/settings/publicKey');
    await bad({ settings: { ...settings, algorithm: 'none' } }, '/body/settings/algorithm');
    await bad({ settings: { ...settings, algorithm: 'HS256', loginUrl: 'http://evil.example/' }, secrets: { sharedSecret: SECRET } }, '/body/settings/loginUrl');
    await bad({ settings: { ...settings, algorithm: 'HS256', surprise: 1 }, secrets: { sharedSecret: SECRET } }, '/body/settings/surprise');

    const agent = await createStaff(t);
    const denied = await call('GET', `/api/v1/portals/${f.portalId}/sso-providers`, undefined, agent);
    expect(denied.statusCode).toBe(403);

    const id = await provider(f, { algorithm: 'HS256' }, { sharedSecret: SECRET });
    // Changing other settings keeps the secret; null removes it, which HS256 cannot do without.
    const renamed = await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { name: 'Renamed', settings: { maxAgeSeconds: 120 } });
    expect(renamed.json()).toMatchObject({ name: 'Renamed', secretsSet: ['sharedSecret'], settings: { maxAgeSeconds: 120 } });
    expect((await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { secrets: { sharedSecret: null } })).statusCode).toBe(400);
    await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { enabled: false });
    expect((await get(t, f, `/${f.slug}/sso/${id}/start`)).statusCode).toBe(404);
    await call('PATCH', `/api/v1/portals/${f.portalId}/sso-providers/${id}`, { enabled: true });
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { signInMethods: ['password'] });
    expect((await get(t, f, `/${f.slug}/sso/${id}/start`)).statusCode).toBe(404);
    // Another portal's provider is not this portal's.
    const g = await ssoPortal(t);
    expect((await get(t, g, `/${g.slug}/sso/${id}/start`)).statusCode).toBe(404);
    expect((await call('GET', `/api/v1/portals/${g.portalId}/sso-providers/${id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/v1/portals/${f.portalId}/sso-providers/${id}`)).statusCode).toBe(204);
  });

});
