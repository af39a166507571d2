import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, postPortalForm } from '../helpers/portal-forms.js';
import { WAIT_SECONDS } from '../../src/http/limits.js';
import { LIMITS } from '../../src/security/limits.js';

const PASSWORD = 'customer password 123';

/**
 * Request limits are keyed by what they protect: the portal (never the Host header as spelt),
 * the target account or address, the client address. A crowd behind one address still signs in.
 */
describe.each(dialects)('request limits on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  async function portal(options: { methods?: ('password' | 'magic_link' | 'sso')[]; selfRegistration?: boolean } = {}) {
    const s = t.app.services;
    const host = `${unique('limits').toLowerCase()}.example.com`;
    const p = await s.portals.create({
      name: 'Acme Help', domain: host, consentText: 'We keep your data.', consentLabel: 'I agree',
      signInMethods: options.methods ?? ['password', 'magic_link'], selfRegistration: options.selfRegistration ?? false,
    });
    await s.portals.update(p.id, { enabled: true });
    return { host, slug: p.slug, portalId: p.id };
  }

  async function member(portalId: number) {
    const email = `${unique('customer')}@example.com`;
    const contact = await t.app.services.contacts.create({ email, firstName: 'Cora' });
    await t.app.services.portals.createMember(portalId, contact.id, PASSWORD);
    return email;
  }

  /** The Host header spelt as an attacker would vary it: other ports, other letter cases. */
  function spelling(host: string, i: number): string {
    return i % 3 === 0 ? `${host}:${20000 + i}` : i % 3 === 1 ? host.toUpperCase() : `${host[0]!.toUpperCase()}${host.slice(1)}:${30000 + i}`;
  }

  async function signIn(host: string, slug: string, email: string, password: string, ip: string) {
    return postPortalForm(t.app, host, `/${slug}/sign-in`, `/${slug}/sign-in`, { email, password, next: `/${slug}` }, { ip });
  }

  test('P8 C4 password attempts at one account are limited whatever the Host header says and whichever address they come from', async () => {
    const f = await portal();
    const email = await member(f.portalId);
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) codes.push((await signIn(spelling(f.host, i), f.slug, email, `wrong password ${i}`, `198.51.100.${(i % 12) + 1}`)).statusCode);
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes.slice(10).every((c) => c === 429)).toBe(true);
    // The refused attempts did no work: the account's own failure count stopped at ten (then the lock).
    const refused = await signIn(f.host, f.slug, email, PASSWORD, '198.51.100.200');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(cookiesOf(refused).portico_member).toBeUndefined();
    // Another account on the same portal, from the same addresses, is not affected.
    const other = await member(f.portalId);
    expect((await signIn(f.host, f.slug, other, PASSWORD, '198.51.100.1')).statusCode).toBe(303);
    // The limit is a sliding minute: after it, attempts are counted afresh.
    t.clock.advance(2 * 60_000);
    expect((await signIn(f.host, f.slug, email, 'still wrong', '198.51.100.1')).statusCode).toBe(401);
  });

  test('P8 C4 a company behind one address signs in: 150 colleagues from one client address are not refused, a few typos among them', async () => {
    const f = await portal();
    const emails: string[] = [];
    for (let i = 0; i < 150; i++) emails.push(await member(f.portalId));
    for (const email of emails.slice(0, 15)) expect((await signIn(f.host, f.slug, email, 'a typo', '203.0.113.50')).statusCode).toBe(401);
    const codes: number[] = [];
    for (const email of emails) codes.push((await signIn(f.host, f.slug, email, PASSWORD, '203.0.113.50')).statusCode);
    expect(codes.every((c) => c === 303)).toBe(true);
  });

  test('P8 C4 past the generous ceiling for one address, a visitor waits a few seconds and tries again (a wait ticket), instead of meeting a wall; the ticket works once, ripe, and tickets are limited too', async () => {
    const f = await portal();
    const email = await member(f.portalId);
    const ip = '203.0.113.77';
    // The address has used its ceiling (as a busy office would).
    for (let i = 0; i < LIMITS.signInClient.points; i++) await t.app.services.limits.take(LIMITS.signInClient, f.portalId, ip);
    const form = async () => {
      const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host }, remoteAddress: ip });
      return { cookie: cookiesOf(page).portico_form!, csrf: /name="csrf" value="([^"]+)"/.exec(page.body)![1]! };
    };
    const attempt = async (wait?: string) => {
      const { cookie, csrf } = await form();
      return t.app.inject({
        method: 'POST', url: `/${f.slug}/sign-in`, remoteAddress: ip,
        headers: { host: f.host, cookie: `portico_form=${cookie}${wait === undefined ? '' : `; portico_wait=${wait}`}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email, password: PASSWORD, csrf, next: `/${f.slug}` }).toString(),
      });
    };
    const asked = await attempt();
    expect(asked.statusCode).toBe(429);
    expect(asked.headers['retry-after']).toBe(String(WAIT_SECONDS));
    expect(asked.body).toContain('Many people are signing in from your network right now.');
    expect(cookiesOf(asked).portico_member).toBeUndefined();
    const ticket = cookiesOf(asked).portico_wait!;
    expect(ticket).toBeDefined();
    // Too soon: not yet; a forged ticket: never.
    expect((await attempt(ticket)).statusCode).toBe(429);
    t.clock.advance(WAIT_SECONDS * 1000);
    expect((await attempt(ticket.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).statusCode).toBe(429);
    const signedIn = await attempt(ticket);
    expect(signedIn.statusCode).toBe(303);
    expect(cookiesOf(signedIn).portico_member).toBeDefined();
    // Once only.
    expect((await attempt(ticket)).statusCode).toBe(429);
    // Tickets too are limited per address: past them, a plain refusal.
    await expect((async () => {
      for (let i = 0; i <= LIMITS.waitTickets.points; i++) await t.app.services.limits.take(LIMITS.waitTickets, f.portalId, ip);
    })()).rejects.toMatchObject({ status: 429 });
    const wall = await attempt();
    expect(wall.statusCode).toBe(429);
    expect(cookiesOf(wall).portico_wait).toBeUndefined();
    expect(wall.body).toContain('Too many attempts');
  });

  test('P9 P14 registrations from one client address are limited per portal, however the Host is spelt, and per address asked for', async () => {
    const f = await portal({ selfRegistration: true });
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await postPortalForm(t.app, spelling(f.host, i), `/${f.slug}/register`, `/${f.slug}/register`,
        { name: `Visit ${i} buy now at spam.example`, email: `${unique('victim')}@example.com`, password: 'a long enough password 1', consent: 'yes' }, { ip: '192.0.2.10' });
      codes.push(res.statusCode);
    }
    expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(codes.slice(5).every((c) => c === 429)).toBe(true);
    expect(await t.app.deps.db.selectFrom('outbox').select('id').where('portal_id', '=', f.portalId).execute()).toHaveLength(5);
    expect(await t.app.deps.db.selectFrom('members').select('id').where('portal_id', '=', f.portalId).execute()).toHaveLength(5);

    // One target address, asked for from many client addresses: three registrations an hour.
    const target = `${unique('target')}@example.com`;
    const perTarget: number[] = [];
    for (let i = 0; i < 5; i++) {
      perTarget.push((await postPortalForm(t.app, f.host, `/${f.slug}/register`, `/${f.slug}/register`,
        { name: 'Someone', email: target, password: 'a long enough password 1', consent: 'yes' }, { ip: `192.0.2.${100 + i}` })).statusCode);
    }
    expect(perTarget.slice(0, 3)).toEqual([200, 200, 200]);
    expect(perTarget.slice(3)).toEqual([429, 429]);
  });

  test('X2 P11 sign-in links and password resets are limited per address asked for, from any client address, and per client address', async () => {
    const f = await portal();
    const email = await member(f.portalId);
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      codes.push((await postPortalForm(t.app, spelling(f.host, i), `/${f.slug}/sign-in`, `/${f.slug}/magic-link`, { email }, { ip: `192.0.2.${20 + i}` })).statusCode);
    }
    expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(codes.slice(5)).toEqual([429, 429]);

    const many: number[] = [];
    for (let i = 0; i < 61; i++) many.push((await postPortalForm(t.app, spelling(f.host, i), `/${f.slug}/sign-in`, `/${f.slug}/magic-link`, { email: `${unique('any')}@example.com` }, { ip: '192.0.2.99' })).statusCode);
    expect(many.slice(0, 60).every((c) => c === 200)).toBe(true);
    expect(many[60]).toBe(429);
  });

  test('X2 P12 single sign-on endpoints are limited per portal and client address, not per Host spelling', async () => {
    const f = await portal({ methods: ['password', 'sso'] });
    const codes: number[] = [];
    for (let i = 0; i < 601; i++) {
      codes.push((await t.app.inject({ method: 'GET', url: `/${f.slug}/sso/999999/start`, headers: { host: spelling(f.host, i) }, remoteAddress: '192.0.2.150' })).statusCode);
    }
    expect(codes.slice(0, 600).every((c) => c === 404)).toBe(true);
    expect(codes[600]).toBe(429);
  });

  test('C4 staff sign-in is limited per account from any address, and per client address', async () => {
    const staff = await createStaff(t, { role: 'agent' });
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      codes.push((await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: staff.email.toUpperCase(), password: `wrong ${i}` }, remoteAddress: `198.51.100.${i + 1}` })).statusCode);
    }
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes.slice(10)).toEqual([429, 429]);
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: staff.email, password: staff.password }, remoteAddress: '198.51.100.99' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
  });
});
