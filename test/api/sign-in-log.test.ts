import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { cookiesOf, csrfOf, postPortalForm } from '../helpers/portal-forms.js';

const PASSWORD = 'customer password 123';

interface Entry {
  method: string;
  outcome: string;
  reason: string;
  reasonText: string;
  detail: string | null;
  email: string | null;
  memberId: number | null;
  provider: { id: number | null; name: string } | null;
  ip: string | null;
}

/**
 * C11: every sign-in and refusal on a portal, with the reason the customer was never told,
 * for staff with the portal settings permission.
 */
describe.each(dialects)('the sign-in log on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { permissions: ['portal_settings'] });
  });
  afterAll(async () => {
    await t.close();
  });
  const call = caller(() => t, () => admin);
  let ip = 0;
  const freshIp = () => `10.66.${Math.floor(++ip / 250)}.${ip % 250}`;

  async function portal(methods: ('password' | 'magic_link' | 'sso')[] = ['password', 'magic_link']) {
    const host = `${unique('log').toLowerCase()}.example.com`;
    const p = await t.app.services.portals.create({ name: 'Acme Help', domain: host, consentText: 'ok', signInMethods: methods });
    await t.app.services.portals.update(p.id, { enabled: true });
    return { host, slug: p.slug, portalId: p.id };
  }
  async function member(portalId: number, password: string | null = PASSWORD) {
    const email = `${unique('m')}@example.com`;
    const contact = await t.app.services.contacts.create({ email, firstName: 'Mia' });
    const row = await t.app.services.portals.createMember(portalId, contact.id, password ?? undefined);
    return { email, memberId: row.id, contactId: contact.id };
  }
  const signIn = (f: { host: string; slug: string }, email: string, password: string, from = freshIp()) =>
    postPortalForm(t.app, f.host, `/${f.slug}/sign-in`, `/${f.slug}/sign-in`, { email, password }, { ip: from });
  const log = async (portalId: number, query = '') => {
    const res = await call('GET', `/api/v1/portals/${portalId}/sign-in-log${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Entry[]; nextCursor: string | null }>();
  };

  test('C11 P8 password sign-ins and every kind of refusal are logged with the reason, newest first', async () => {
    const f = await portal();
    const ok = await member(f.portalId);
    const invited = await member(f.portalId, null);
    const off = await member(f.portalId);
    const disabled = await member(f.portalId);
    await t.app.services.portals.updateMember(f.portalId, disabled.memberId, { disabled: true });

    expect((await signIn(f, ok.email.toUpperCase(), PASSWORD, '203.0.113.9')).statusCode).toBe(303);
    expect((await signIn(f, ok.email, 'not it')).statusCode).toBe(401);
    expect((await signIn(f, `${unique('nobody')}@example.com`, PASSWORD)).statusCode).toBe(401);
    expect((await signIn(f, invited.email, PASSWORD)).statusCode).toBe(401);
    expect((await signIn(f, disabled.email, PASSWORD)).statusCode).toBe(401);
    // Off the portal's lists: the right password, and still no way in.
    const list = await t.app.services.lists.create({ name: unique('Only'), kind: 'static' });
    await t.app.services.lists.addMembers(list.id, [ok.contactId]);
    await t.app.services.portals.update(f.portalId, { accessListIds: [list.id] });
    expect((await signIn(f, off.email, PASSWORD)).statusCode).toBe(403);

    const { items } = await log(f.portalId);
    expect(items.map((e) => [e.method, e.outcome, e.reason])).toEqual([
      ['password', 'denied', 'not_on_access_lists'],
      ['password', 'refused', 'disabled'],
      ['password', 'refused', 'no_password'],
      ['password', 'refused', 'unknown_email'],
      ['password', 'refused', 'wrong_password'],
      ['password', 'signed_in', 'signed_in'],
    ]);
    expect(items.at(-1)).toMatchObject({ email: ok.email, memberId: ok.memberId, ip: '203.0.113.9', reasonText: 'Signed in.' });
    expect(items[0]!.reasonText).toBe('The member is on none of the contact lists this portal is open to.');
    for (const e of items) expect(e.reasonText).not.toMatch(/[A-Z]\d|_/);

    // Ten wrong passwords lock the account; the log says so, then says why the right one fails.
    t.clock.advance(2 * 60_000);
    for (let i = 0; i < 9; i++) await signIn(f, ok.email, `wrong ${i}`);
    t.clock.advance(2 * 60_000);
    expect((await signIn(f, ok.email, PASSWORD)).statusCode).toBe(401);
    const locked = (await log(f.portalId, '?limit=2')).items;
    expect(locked.map((e) => e.reason)).toEqual(['locked', 'wrong_password']);
    expect(locked[1]!.detail).toContain('locked for 15 minutes');
  });

  test('C11 X2 P10 emailed links: a sign-in by link, a link that cannot be used, and filters by outcome, method and address, page by page', async () => {
    const f = await portal();
    const m = await member(f.portalId);
    await postPortalForm(t.app, f.host, `/${f.slug}/sign-in`, `/${f.slug}/magic-link`, { email: m.email }, { ip: freshIp() });
    const mail = await t.app.deps.db.selectFrom('outbox').select('text_body').where('to_address', '=', m.email).where('kind', '=', 'member.magic').executeTakeFirstOrThrow();
    const link = new URL(/https?:\/\/\S+/.exec(mail.text_body)![0]).pathname;
    const page = await t.app.inject({ method: 'GET', url: link, headers: { host: f.host }, remoteAddress: freshIp() });
    const press = () => t.app.inject({
      method: 'POST', url: link, remoteAddress: freshIp(),
      headers: { host: f.host, cookie: `portico_form=${cookiesOf(page).portico_form!}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf: csrfOf(page.body) }).toString(),
    });
    expect((await press()).statusCode).toBe(303);
    expect((await press()).statusCode).toBe(400);
    const { items } = await log(f.portalId);
    expect(items.map((e) => [e.method, e.outcome, e.reason, e.email])).toEqual([
      ['magic_link', 'refused', 'link_unusable', null],
      ['magic_link', 'signed_in', 'signed_in', m.email],
    ]);

    for (let i = 0; i < 3; i++) await signIn(f, m.email, `wrong ${i}`);
    await signIn(f, m.email.toUpperCase(), PASSWORD);
    const other = await member(f.portalId);
    await signIn(f, other.email, PASSWORD);
    expect((await log(f.portalId, '?outcome=signed_in')).items.map((e) => e.method)).toEqual(['password', 'password', 'magic_link']);
    expect((await log(f.portalId, '?method=magic_link')).items).toHaveLength(2);
    expect((await log(f.portalId, `?email=${encodeURIComponent(other.email.split('@')[0]!.toUpperCase())}`)).items.map((e) => e.email)).toEqual([other.email]);
    expect((await log(f.portalId, '?email=%25')).items).toEqual([]);
    // Pages: every entry once, newest first.
    const seen: Entry[] = [];
    let cursor: string | null = null;
    do {
      const pageOf: { items: Entry[]; nextCursor: string | null } = await log(f.portalId, `?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...pageOf.items);
      cursor = pageOf.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual((await log(f.portalId, '?limit=100')).items);
    expect(seen).toHaveLength(7);
  });

  test('C11 P12 a single sign-on answer that fails its checks is logged with the provider and the check; only portal admins read the log', async () => {
    const f = await portal(['password', 'sso']);
    const created = await call('POST', `/api/v1/portals/${f.portalId}/sso-providers`, {
      kind: 'jwt', name: 'Acme accounts', settings: { algorithm: 'HS256', issuer: 'https://acme.example', audience: 'portico', loginUrl: 'https://acme.example/login' },
      secrets: { sharedSecret: 'a-shared-secret-of-the-company-site-0123456789' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const providerId = created.json<{ id: number }>().id;
    const forged = await new SignJWT({ sub: 'u-1', jti: unique('j'), email: 'x@example.com' }).setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://acme.example').setAudience('portico').setIssuedAt(new Date(t.clock.now())).setExpirationTime(new Date(t.clock.now() + 60_000))
      .sign(new TextEncoder().encode('another-secret-another-secret-another-0123'));
    const res = await t.app.inject({ method: 'GET', url: `/${f.slug}/sso/${providerId}/jwt?jwt=${forged}`, headers: { host: f.host }, remoteAddress: freshIp() });
    expect(res.statusCode).toBe(400);
    const [entry] = (await log(f.portalId)).items;
    expect(entry).toMatchObject({ method: 'sso', outcome: 'refused', reason: 'sso_proof_invalid', provider: { id: providerId, name: 'Acme accounts' } });
    expect(entry!.detail).not.toBeNull();
    expect(entry!.detail).not.toContain(forged);

    const agent = await createStaff(t);
    expect((await call('GET', `/api/v1/portals/${f.portalId}/sign-in-log`, undefined, agent)).statusCode).toBe(403);
    expect((await call('GET', '/api/v1/portals/999999/sign-in-log')).statusCode).toBe(404);
    expect((await call('GET', `/api/v1/portals/${f.portalId}/sign-in-log?outcome=maybe`)).statusCode).toBe(400);
    expect((await call('GET', `/api/v1/portals/${f.portalId}/sign-in-log?cursor=garbage`)).statusCode).toBe(400);
    // Removing the provider keeps the entry readable.
    await call('DELETE', `/api/v1/portals/${f.portalId}/sso-providers/${providerId}`);
    expect((await log(f.portalId)).items[0]).toMatchObject({ provider: { id: null, name: 'Acme accounts' } });
  });

  test('C11 entries older than SIGN_IN_LOG_DAYS are purged', async () => {
    const f = await portal();
    const m = await member(f.portalId);
    await signIn(f, m.email, PASSWORD);
    t.clock.advance(89 * 24 * 3600_000);
    await signIn(f, m.email, 'wrong');
    t.clock.advance(2 * 24 * 3600_000);
    expect(await t.app.services.memberAuth.log.purge(t.config.signInLogDays)).toBeGreaterThanOrEqual(1);
    expect((await log(f.portalId)).items.map((e) => e.reason)).toEqual(['wrong_password']);
  });
});
