import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SsoService } from '../../src/modules/sso/sso.service.js';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { commentInNameId, processingInstructionInNameId, referenceToOtherElement, resignWithAttackerKey, stripSignatures, tamperNameId, toBase64, withDoctype, XSW_VARIANTS, XSW_WRAPS } from '../helpers/saml-forge.js';
import { readSamlFixture, startSamlIdp, type SamlIdp, type SamlResponseOptions } from '../helpers/saml-idp.js';
import { cookiesOf } from '../helpers/portal-forms.js';
import { contactWithTicket, expectRefused, expectSignedIn, formOf, freshIp, get, memberCookie, signedInMember, ssoPortal, type SsoPortal } from '../helpers/sso-fixtures.js';

// P12 SAML 2.0: a real identity provider (samlify in its IdP role) signs real assertions; the
// portal, a service provider on node-saml, signs the customer in. Forged from real signed
// responses: signature wrapping (XSW1-8), comments and processing instructions in the NameID,
// an unsigned assertion, another key's signature with its certificate in KeyInfo, a reference
// to another element, a replay, a wrong audience, an expired assertion: each refused with no
// session, and logged.

describe.each(dialects)('SAML single sign-on on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let idp: SamlIdp;
  const logs: string[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect, {}, { logs });
    // node-saml checks assertion times against the system clock; ours starts there too.
    t.clock.set(Date.now());
    admin = await createStaff(t, { permissions: ['portal_settings'] });
    idp = await startSamlIdp();
  });
  afterAll(async () => {
    await idp.close();
    await t.close();
  });
  const call = caller(() => t, () => admin);

  interface Sp { f: SsoPortal; id: number; acsUrl: string; entityId: string }
  async function sp(options: { allowIdpInitiated?: boolean; emailsVerified?: boolean } = {}): Promise<Sp> {
    const f = await ssoPortal(t);
    const res = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'saml', name: 'Acme SAML', idpMetadataXml: idp.metadataXml,
      settings: { allowIdpInitiated: options.allowIdpInitiated ?? false, emailsVerified: options.emailsVerified ?? true },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<{ id: number; urls: { acs: string; entityId: string } }>();
    return { f, id: body.id, acsUrl: body.urls.acs, entityId: body.urls.entityId };
  }

  /**
   * Starts a sign-in at the portal in a browser (optionally one already holding `cookie`); the IdP
   * receives the AuthnRequest. Returns its id, the RelayState, and the browser's cookies after.
   */
  async function start(s: Sp, next?: string, cookie?: string): Promise<{ requestId: string; relayState: string; browser: string }> {
    const res = await get(t, s.f, `/${s.f.slug}/sso/${s.id}/start${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`, cookie);
    expect(res.statusCode, res.body).toBe(303);
    const proof = cookiesOf(res).portico_sso;
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(idp.ssoUrl);
    const page = await fetch(location);
    expect(page.status).toBe(200);
    const received = idp.requests.at(-1);
    if (received === undefined) throw new Error('the IdP received no AuthnRequest');
    expect(received.acsUrl).toBe(s.acsUrl);
    expect(received.issuer).toBe(s.entityId);
    return { requestId: received.id, relayState: received.relayState ?? '', browser: [cookie, proof === undefined ? undefined : `portico_sso=${proof}`].filter((c) => c !== undefined).join('; ') };
  }
  /** The IdP's page posts to the ACS: a cross-site POST, which carries none of the browser's cookies. */
  const postAcs = (s: Sp, xml: string, relayState?: string): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST', url: `/${s.f.slug}/sso/${s.id}/saml/acs`, remoteAddress: freshIp(),
      headers: { host: s.f.host, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ SAMLResponse: toBase64(xml), ...(relayState === undefined ? {} : { RelayState: relayState }) }).toString(),
    });
  /** The whole answer as a browser holding `browser` (its cookies) sees it: the ACS, then our own GET that finishes the sign-in. */
  const post = async (s: Sp, xml: string, relayState?: string, browser?: string): Promise<LightMyRequestResponse> => {
    const acs = await postAcs(s, xml, relayState);
    const location = acs.headers.location ?? '';
    if (acs.statusCode !== 303 || !location.startsWith(`/${s.f.slug}/sso/${s.id}/continue/`)) return acs;
    expect(memberCookie(acs), 'the ACS itself signs no one in').toBeUndefined();
    return get(t, s.f, location, browser);
  };
  const respond = (s: Sp, inResponseTo: string | undefined, user: { nameId: string; email: string }, extra: Partial<SamlResponseOptions> = {}) =>
    idp.response({ acsUrl: s.acsUrl, spEntityId: s.entityId, ...(inResponseTo === undefined ? {} : { inResponseTo }), user: { ...user, firstName: 'Sam', lastName: 'Single' }, ...extra });

  test('P12 SP-initiated: the IdP’s signed response signs the member in and returns them to the page they asked for; the metadata is served at the entity id', async () => {
    const s = await sp();
    const victim = await contactWithTicket(t, s.f);
    const { requestId, relayState, browser } = await start(s, `/${s.f.slug}?status=open`);
    // The start bound the sign-in to this browser.
    expect(browser).toMatch(/^portico_sso=[A-Za-z0-9_-]{43}$/);
    const res = await post(s, await respond(s, requestId, { nameId: victim.email, email: victim.email }), relayState, browser);
    await expectSignedIn(t, s.f, res, `/${s.f.slug}?status=open`, victim.subject);
    expect(await t.app.deps.db.selectFrom('member_identities').select(['subject', 'linked_by']).where('provider_id', '=', s.id).execute()).toEqual([{ subject: victim.email, linked_by: 'email' }]);

    const metadata = await get(t, s.f, new URL(s.entityId).pathname);
    expect(metadata.statusCode).toBe(200);
    expect(metadata.headers['content-type']).toContain('application/samlmetadata+xml');
    expect(metadata.body).toContain(`entityID="${s.entityId}"`);
    expect(metadata.body).toContain(`Location="${s.acsUrl}"`);
    const viaApi = await call('GET', `/api/v1/portals/${s.f.portalId}/sso-providers/${s.id}/saml-metadata`);
    // The same document, but for its ID, which is new each time.
    const noId = (xml: string) => xml.replace(/ ID="[^"]+"/, '');
    expect(noId(viaApi.body)).toBe(noId(metadata.body));
    const provider = await call('GET', `/api/v1/portals/${s.f.portalId}/sso-providers/${s.id}`);
    expect(provider.json()).toMatchObject({ settings: { idpEntityId: idp.entityId, idpSsoUrl: idp.ssoUrl, idpCertificates: [expect.stringContaining('BEGIN CERTIFICATE')] }, secretsSet: [] });
  });

  test('P12 IdP-initiated sign-in only where the admin turned it on; its RelayState may name a page of the portal and nothing else', async () => {
    const off = await sp();
    const c = await contactWithTicket(t, off.f);
    await expectRefused(t, async () => post(off, await respond(off, undefined, { nameId: c.email, email: c.email })), logs, /InResponseTo is missing/);

    const on = await sp({ allowIdpInitiated: true });
    const d = await contactWithTicket(t, on.f);
    await expectSignedIn(t, on.f, await post(on, await respond(on, undefined, { nameId: d.email, email: d.email }), `/${on.f.slug}?status=closed`), `/${on.f.slug}?status=closed`, d.subject);
    const away = await post(on, await respond(on, undefined, { nameId: d.email, email: d.email }), 'https://evil.example/');
    expect(away.statusCode).toBe(303);
    expect(away.headers.location).toBe(`/${on.f.slug}`);
  });

  test('P12 an SP-initiated response answered in a browser that did not start the sign-in is refused, IdP-initiated sign-in off: a response posted into a victim’s browser never signs it in as someone else', async () => {
    const s = await sp();
    const victim = await contactWithTicket(t, s.f);
    const victimBrowser = await signedInMember(t, s.f, victim.contactId);
    const attacker = await contactWithTicket(t, s.f);
    const attackerAtIdp = { nameId: `attacker-${unique('n')}`, email: attacker.email };
    // The attacker starts a sign-in in their own browser, and the IdP answers it for their account…
    const theirs = await start(s);
    const response = await respond(s, theirs.requestId, attackerAtIdp);
    // …then their page makes the victim's browser post it to the ACS.
    const refusal = await expectRefused(t, () => post(s, response, theirs.relayState, victimBrowser), logs, /started in another browser/);
    expect(refusal.code).toBe('other_browser');
    const list = await get(t, s.f, `/${s.f.slug}`, victimBrowser);
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(victim.subject);
    expect(list.body).not.toContain(attacker.subject);
    // A browser signed in as nobody is not signed in as the attacker either (login CSRF).
    const again = await start(s);
    await expectRefused(t, async () => post(s, await respond(s, again.requestId, attackerAtIdp), again.relayState), logs, /started in another browser/);
  });

  test('P12 an IdP-initiated response (where the admin allows them) in a browser signed in as another member asks before switching, and changes nothing', async () => {
    const s = await sp({ allowIdpInitiated: true });
    const [a, b] = [await contactWithTicket(t, s.f), await contactWithTicket(t, s.f)];
    const browser = await signedInMember(t, s.f, a.contactId);
    const before = await rowCounts(t);
    const asked = await post(s, await respond(s, undefined, { nameId: `b-${unique('n')}`, email: b.email }), undefined, browser);
    expect(asked.statusCode, asked.body).toBe(200);
    expect(memberCookie(asked)).toBeUndefined();
    expect(asked.body).toContain('Switch accounts?');
    expect(formOf(asked.body).action).toBe(`/${s.f.slug}/sso/${s.id}/switch`);
    const after = await rowCounts(t);
    for (const table of ['member_sessions', 'members', 'contacts', 'member_identities'] as const) expect(after[table], table).toBe(before[table]);
    expect((await get(t, s.f, `/${s.f.slug}`, browser)).body).toContain(a.subject);
  });

  test('P12 one member holds at most one subject per provider: a second NameID with the member’s verified address is refused', async () => {
    const s = await sp({ allowIdpInitiated: true });
    const c = await contactWithTicket(t, s.f);
    await expectSignedIn(t, s.f, await post(s, await respond(s, undefined, { nameId: `first-${unique('n')}`, email: c.email })), `/${s.f.slug}`, c.subject);
    const swap = await expectRefused(t, async () => post(s, await respond(s, undefined, { nameId: `second-${unique('n')}`, email: c.email })), logs, /already signs in with another subject/, 403);
    expect(swap.code).toBe('subject_conflict');
  });

  test('P12 a replayed assertion is refused, also by a process that never saw it (the used ids are in the database)', async () => {
    const s = await sp({ allowIdpInitiated: true });
    const c = await contactWithTicket(t, s.f);
    const xml = await respond(s, undefined, { nameId: c.email, email: c.email });
    await expectSignedIn(t, s.f, await post(s, xml), `/${s.f.slug}`, c.subject);
    await expectRefused(t, () => post(s, xml), logs, /assertion replayed/);
    const assertionId = /<saml:Assertion[^>]* ID="([^"]+)"/.exec(xml)?.[1] ?? '';
    expect(assertionId).not.toBe('');
    // A fresh service (another process, or this one restarted) knows the id as used.
    const restarted = new SsoService(t.app.deps, t.app.services.memberAuth, t.app.services.contacts, t.app.services.outbound);
    expect(await restarted.firstUse('saml', idp.entityId, assertionId, t.clock.now() + 60_000)).toBe(false);
    // The SP-initiated response to one request works once: its InResponseTo is then used up.
    const strict = await sp();
    const e = await contactWithTicket(t, strict.f);
    const { requestId, relayState, browser } = await start(strict);
    const once = await respond(strict, requestId, { nameId: e.email, email: e.email });
    expect((await post(strict, once, relayState, browser)).statusCode).toBe(303);
    await expectRefused(t, () => post(strict, once, relayState, browser), logs, /InResponseTo is not valid|assertion replayed/);
  });

  test('P12 forged responses are refused with no session and logged: XSW1-8, comment and processing instruction in the NameID, unsigned, another key with its certificate in KeyInfo, a reference to another element, a changed NameID, a DOCTYPE', async () => {
    const s = await sp();
    const victim = await contactWithTicket(t, s.f);
    const attacker = { nameId: `attacker-${unique('a')}@evil.test`, email: `attacker-${unique('a')}@evil.test` };
    const cases: [string, (requestId: string) => Promise<string>, RegExp][] = [];
    for (const [name, forge] of Object.entries(XSW_VARIANTS)) {
      const wraps = XSW_WRAPS[name as keyof typeof XSW_VARIANTS];
      // The wrapped copy makes a second assertion (or a second Response around one): refused before the signature is even read.
      cases.push([name, async (requestId) => forge(await respond(s, requestId, attacker, { signResponse: wraps === 'Response', signAssertion: true }), victim.email), /2 assertions in the response/]);
    }
    const lookalike = { nameId: `${victim.email}.evil.test`, email: `${victim.email}.evil.test` };
    cases.push(
      ['comment in the NameID', async (id) => commentInNameId(await respond(s, id, lookalike), victim.email), /comments in the document/],
      ['processing instruction in the NameID', async (id) => processingInstructionInNameId(await respond(s, id, lookalike), victim.email), /processing instructions/],
      ['unsigned', async (id) => stripSignatures(await respond(s, id, { nameId: victim.email, email: victim.email })), /Invalid signature/],
      ['signed by another key, its certificate in KeyInfo', async (id) => resignWithAttackerKey(await respond(s, id, attacker), victim.email), /Invalid signature/],
      ['a signature over another element', async (id) => referenceToOtherElement(await respond(s, id, attacker), victim.email), /Invalid signature/],
      ['NameID changed after signing', async (id) => tamperNameId(await respond(s, id, attacker), victim.email), /Invalid signature/],
      ['a DOCTYPE with an entity', async (id) => withDoctype(await respond(s, id, attacker)), /DOCTYPE/],
    );
    for (const [name, forge, reason] of cases) {
      const { requestId, relayState } = await start(s);
      const xml = await forge(requestId);
      await expectRefused(t, () => post(s, xml, relayState), logs, reason).catch((error: unknown) => {
        throw new Error(`${name}: ${String(error)}`);
      });
    }
    // None of it signed anyone in as the victim.
    expect(await t.app.deps.db.selectFrom('member_identities').selectAll().where('provider_id', '=', s.id).execute()).toEqual([]);
  });

  test('P12 a wrong audience, an expired or not yet valid assertion, another Destination or Recipient, an unknown InResponseTo and an oversized response are refused', async () => {
    const s = await sp();
    const c = await contactWithTicket(t, s.f);
    const user = { nameId: c.email, email: c.email };
    const now = Date.now();
    const cases: [string, (requestId: string) => Promise<string>, RegExp][] = [
      ['wrong audience', (id) => respond(s, id, user, { audience: 'https://someone-else.example/sp' }), /audience mismatch/],
      ['expired', (id) => respond(s, id, user, { now: new Date(now - 3600_000), notBefore: new Date(now - 3660_000), notOnOrAfter: new Date(now - 3000_000) }), /expired|No valid subject confirmation/],
      ['not yet valid', (id) => respond(s, id, user, { notBefore: new Date(now + 3600_000), notOnOrAfter: new Date(now + 7200_000) }), /not yet valid|No valid subject confirmation/],
      ['another Destination', (id) => respond(s, id, user, { destination: 'https://other.example/acs' }), /Destination/],
      ['another Recipient', (id) => idp.response({ acsUrl: 'https://other.example/acs', spEntityId: s.entityId, inResponseTo: id, user, destination: s.acsUrl }), /Recipient/],
      ['an InResponseTo we never sent', () => respond(s, '_not-our-request', user), /InResponseTo is not valid/],
    ];
    for (const [name, make, reason] of cases) {
      const { requestId, relayState } = await start(s);
      const xml = await make(requestId);
      await expectRefused(t, () => post(s, xml, relayState), logs, reason).catch((error: unknown) => {
        throw new Error(`${name}: ${String(error)}`);
      });
    }
    // Past the size cap the form itself is refused before any XML is read, and nothing changes.
    const { requestId, relayState } = await start(s);
    const huge = (await respond(s, requestId, user)).replace('</saml:Issuer>', `</saml:Issuer><saml:Extra>${'x'.repeat(300 * 1024)}</saml:Extra>`);
    const sessions = (await t.app.deps.db.selectFrom('member_sessions').select('id_hash').execute()).length;
    const res = await post(s, huge, relayState);
    expect([400, 413]).toContain(res.statusCode);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await t.app.deps.db.selectFrom('member_sessions').select('id_hash').execute()).length).toBe(sessions);
  });

  test('P12 the admin imports IdP metadata; metadata with a DOCTYPE, no signing certificate or a broken certificate is refused with the field that is wrong', async () => {
    const f = await ssoPortal(t);
    const create = (body: Record<string, unknown>) => call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, { kind: 'saml', name: 'X', ...body });
    const paths = async (body: Record<string, unknown>) => {
      const res = await create(body);
      expect(res.statusCode, res.body).toBe(400);
      return res.json<{ errors: { path: string; message: string }[] }>().errors;
    };
    expect(await paths({ idpMetadataXml: `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${idp.metadataXml}` })).toEqual([{ path: '/body/idpMetadataXml', label: 'Identity provider metadata XML', message: 'Remove the DOCTYPE: metadata with a DOCTYPE or ENTITY declaration is refused.' }]);
    expect(await paths({ idpMetadataXml: idp.metadataXml.replace(/<(\w+:)?KeyDescriptor[\s\S]*<\/(\w+:)?KeyDescriptor>/, '') })).toEqual([{ path: '/body/idpMetadataXml', label: 'Identity provider metadata XML', message: 'The metadata holds no signing certificate: add the provider’s certificate.' }]);
    expect(await paths({ idpMetadataXml: 'not xml at all' })).toMatchObject([{ path: '/body/idpMetadataXml' }]);
    const manual = { idpEntityId: idp.entityId, idpSsoUrl: idp.ssoUrl };
    expect(await paths({ settings: { ...manual, idpCertificates: [readSamlFixture('idp-cert.pem').replace(/[A-Za-z]{20}/, 'A'.repeat(20))] } })).toEqual([{ path: '/body/settings/idpCertificates/0', label: 'Identity provider certificates, item 1', message: 'This is not an X.509 certificate: paste the whole PEM text.' }]);
    expect((await paths({ settings: manual })).map((e) => e.path)).toContain('/body/settings/idpCertificates');
    const ok = await create({ settings: { ...manual, idpCertificates: [idp.certificatePem] } });
    expect(ok.statusCode, ok.body).toBe(201);
  });
});
