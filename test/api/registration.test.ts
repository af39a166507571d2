import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestApp, dialects, rowCounts, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, csrfOf, postPortalForm } from '../helpers/portal-forms.js';

// P9 self-registration, P14 the consent notice and its checkbox, P29 the consent record; the
// email verified by a link before any ticket shows.

const NOTICE = 'We use your name and email to answer you. Read [our policy](https://acme.example/privacy?x=1&y=2) <script>alert(1)</script>';
const LABEL = 'I agree to the processing of my data';

interface Fixture {
  host: string;
  slug: string;
  portalId: number;
  pipelineId: number;
}

describe.each(dialects)('self-registration on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  let ipCounter = 0;
  const freshIp = () => `10.66.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

  async function portal(selfRegistration = true): Promise<Fixture> {
    const s = t.app.services;
    const host = `${unique('join').toLowerCase()}.example.com`;
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }, { name: 'Done', state: 'closed' }] });
    const p = await s.portals.create({ name: 'Acme Help', domain: host, consentText: NOTICE, consentLabel: LABEL, selfRegistration });
    await s.portals.update(p.id, { enabled: true });
    return { host, slug: p.slug, portalId: p.id, pipelineId: pipeline.id };
  }

  const get = (f: Fixture, url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers: { host: f.host, ...headers }, remoteAddress: freshIp() });
  /** Opens an emailed link's page and presses its one button, in a browser holding `cookie`. */
  async function follow(f: Fixture, link: string, cookie = '') {
    const ip = freshIp();
    const page = await t.app.inject({ method: 'GET', url: link, headers: { host: f.host, ...(cookie === '' ? {} : { cookie }) }, remoteAddress: ip });
    expect(page.statusCode, link).toBe(200);
    const form = cookiesOf(page).portico_form ?? /portico_form=([^;]+)/.exec(cookie)?.[1] ?? '';
    return t.app.inject({
      method: 'POST', url: link, remoteAddress: ip,
      headers: { host: f.host, cookie: [cookie, `portico_form=${form}`].filter((c) => c !== '').join('; '), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf: csrfOf(page.body) }).toString(),
    });
  }

  const register = (f: Fixture, fields: Record<string, string>, options: { csrf?: string } = {}) =>
    postPortalForm(t.app, f.host, `/${f.slug}/register`, `/${f.slug}/register`, fields, { ip: freshIp(), ...options });

  async function signIn(f: Fixture, email: string, password: string) {
    const res = await postPortalForm(t.app, f.host, `/${f.slug}/sign-in`, `/${f.slug}/sign-in`, { email, password, next: `/${f.slug}` }, { ip: freshIp() });
    return { res, session: cookiesOf(res).portico_member };
  }

  const mails = (to: string, kind: string) => t.app.deps.db.selectFrom('outbox').selectAll().where('to_address', '=', to).where('kind', '=', kind).orderBy('id').execute();
  async function linkTo(to: string, kind: string): Promise<string> {
    const text = (await mails(to, kind)).at(-1)?.text_body ?? '';
    const url = /https?:\/\/\S+/.exec(text)?.[0];
    if (url === undefined) throw new Error(`no ${kind} link for ${to}`);
    return new URL(url).pathname;
  }
  const memberOf = (f: Fixture, email: string) => t.app.deps.db.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
    .select(['m.id', 'm.verified_at', 'm.password_hash', 'c.id as contact_id', 'c.first_name']).where('m.portal_id', '=', f.portalId).where('c.email_key', '=', email.toLowerCase()).executeTakeFirst();

  test('P9 only a portal that allows it offers registration', async () => {
    const closed = await portal(false);
    expect((await get(closed, `/${closed.slug}/sign-in`)).body).not.toContain('/register');
    expect((await get(closed, `/${closed.slug}/register`)).statusCode).toBe(404);
    const open = await portal(true);
    const signInPage = await get(open, `/${open.slug}/sign-in`);
    expect(signInPage.body).toContain(`<a href="/${open.slug}/register">Register here</a>`);
  });

  test('P9 P14 P29 a visitor registers with consent, is recorded, confirms the email by the link’s button (a scanner opening it spends nothing), and only then sees their tickets', async () => {
    const f = await portal();
    // A contact staff already know, with a ticket: registering shows it only after the link.
    const email = `${unique('newbie')}@example.com`;
    const contact = await t.app.services.contacts.create({ email, firstName: 'Known' });
    const ticket = await t.app.services.tickets.create({ subject: 'Printer on fire', pipelineId: f.pipelineId, contactIds: [contact.id] }, null);

    const page = await get(f, `/${f.slug}/register`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<a href="https://acme.example/privacy?x=1&amp;y=2" rel="noopener noreferrer" target="_blank">our policy</a>');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain(`<label for="consent">${LABEL}</label>`);

    const before = await rowCounts(t);
    const noConsent = await register(f, { name: 'Nina Newbie', email, password: 'a long enough passphrase' });
    expect(noConsent.statusCode).toBe(400);
    expect(noConsent.body).toContain('Tick the box to agree before you register.');
    expect(noConsent.body).toContain('value="Nina Newbie"');
    expect(noConsent.body).toContain(`value="${email}"`);
    expect(noConsent.body).not.toContain('a long enough passphrase');
    expect(await rowCounts(t)).toEqual(before);
    expect(await mails(email, 'member.verify')).toEqual([]);

    const done = await register(f, { name: 'Nina Newbie', email, password: 'a long enough passphrase', consent: 'yes' });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain(`We sent a link to ${email}.`);
    const member = await memberOf(f, email);
    expect(member).toMatchObject({ verified_at: null, contact_id: contact.id, first_name: 'Known' });
    const consent = await t.app.deps.db.selectFrom('consents').selectAll().where('member_id', '=', member!.id).executeTakeFirstOrThrow();
    expect(consent).toMatchObject({ portal_id: f.portalId, notice: NOTICE, label: LABEL, accepted: 1, created_at: t.clock.now() });
    expect(consent.version).toBe(createHash('sha256').update(`${NOTICE}\n${LABEL}`).digest('hex'));

    // Not before the link: the right password says to confirm first, and mails a new link.
    const early = await signIn(f, email, 'a long enough passphrase');
    expect(early.res.statusCode).toBe(403);
    expect(early.res.body).toContain('Confirm your email first');
    expect(early.session).toBeUndefined();
    expect(await mails(email, 'member.verify')).toHaveLength(2);
    // The mail says where to open the link, and what happens elsewhere.
    expect((await mails(email, 'member.verify')).at(-1)!.text_body).toContain('Open the link in the browser you registered in.');
    const wrong = await signIn(f, email, 'not the password');
    expect(wrong.res.statusCode).toBe(401);

    const link = await linkTo(email, 'member.verify');
    // In the browser that asked for the link (its cookie came with the sign-in answer).
    const browser = cookiesOf(early.res).portico_registration!;
    // A mail scanner opening the link spends nothing: the page only offers a button.
    const scanned = await get(f, link);
    expect(scanned.statusCode).toBe(200);
    expect(scanned.body).toContain('Confirm my email');
    expect(cookiesOf(scanned).portico_member).toBeUndefined();
    expect((await memberOf(f, email))!.verified_at).toBeNull();
    const verified = await follow(f, link, `portico_registration=${browser}`);
    expect(verified.statusCode).toBe(303);
    expect(verified.headers.location).toBe(`/${f.slug}`);
    const session = cookiesOf(verified).portico_member!;
    const list = await get(f, `/${f.slug}`, { cookie: `portico_member=${session}` });
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`/${f.slug}/${ticket.id}`);
    expect((await memberOf(f, email))!.verified_at).toBe(t.clock.now());
    expect((await get(f, link)).statusCode).toBe(400);
    expect((await signIn(f, email, 'a long enough passphrase')).res.statusCode).toBe(303);
  });

  test('P9 registering an address that already has a sign-in tells its owner by mail, not the visitor, and changes nothing', async () => {
    const f = await portal();
    const email = `${unique('owner')}@example.com`;
    const owner = await register(f, { name: 'Owner', email, password: 'the owner passphrase', consent: 'yes' });
    await follow(f, await linkTo(email, 'member.verify'), `portico_registration=${cookiesOf(owner).portico_registration!}`);
    const hash = (await memberOf(f, email))!.password_hash;

    const fresh = `${unique('fresh')}@example.com`;
    const again = await register(f, { name: 'Intruder', email: email.toUpperCase(), password: 'another passphrase here', consent: 'yes' });
    const other = await register(f, { name: 'Intruder', email: fresh, password: 'another passphrase here', consent: 'yes' });
    expect(again.statusCode).toBe(200);
    expect(again.body.replaceAll(email.toUpperCase(), 'X').replace(/value="[^"]*"/g, '')).toBe(other.body.replaceAll(fresh, 'X').replace(/value="[^"]*"/g, ''));
    expect((await memberOf(f, email))!.password_hash).toBe(hash);
    const [notice] = await mails(email, 'member.exists');
    expect(notice!.subject).toBe('Someone tried to register with your address on Acme Help');
    expect(notice!.text_body).toContain(`/${f.slug}/sign-in`);
    expect((await signIn(f, email, 'another passphrase here')).res.statusCode).toBe(401);
  });

  test('P9 whoever registers someone else’s address never learns a password that opens it: the link from another browser asks the mailbox’s holder for one, and says why', async () => {
    const f = await portal();
    // The victim is a known contact with a ticket; the attacker registers their address.
    const email = `${unique('victim')}@example.com`;
    const victim = await t.app.services.contacts.create({ email, firstName: 'Vic' });
    const ticket = await t.app.services.tickets.create({ subject: 'Private matter', pipelineId: f.pipelineId, contactIds: [victim.id] }, null);
    const attacker = await register(f, { name: 'Mallory', email, password: 'mallory chose this one', consent: 'yes' });
    expect(cookiesOf(attacker).portico_registration).toBeDefined();
    // The victim follows the link in their own browser, without the attacker's cookie.
    const link = await linkTo(email, 'member.verify');
    const followed = await follow(f, link);
    expect(followed.statusCode).toBe(200);
    // The page says why a password is asked for again (the registrant's was dropped).
    expect(followed.body).toContain('For your safety, choose a password again on this device');
    const action = /action="([^"]+)"/.exec(followed.body)?.[1] ?? '';
    expect(action).toMatch(new RegExp(`^/${f.slug}/password-reset/[A-Za-z0-9_-]{43}$`));
    expect(cookiesOf(followed).portico_member).toBeUndefined();
    // The attacker's password opens nothing, before or after.
    expect((await signIn(f, email, 'mallory chose this one')).res.statusCode).toBe(401);
    const setPage = await postPortalForm(t.app, f.host, action, action, { password: 'vic sets their own' }, { ip: freshIp() });
    expect(setPage.statusCode).toBe(303);
    const session = cookiesOf(setPage).portico_member!;
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${session}` })).body).toContain(`/${f.slug}/${ticket.id}`);
    expect((await signIn(f, email, 'mallory chose this one')).res.statusCode).toBe(401);
    // The attacker's browser cookie is worth nothing now: the link is spent.
    expect((await get(f, link, { cookie: `portico_registration=${cookiesOf(attacker).portico_registration!}` })).statusCode).toBe(400);
  });

  test('P9 bad registrations are refused with the reason and write nothing; links from elsewhere do nothing', async () => {
    const f = await portal();
    const other = await portal();
    const before = await rowCounts(t);
    for (const [fields, says] of [
      [{ name: 'N', email: `${unique('a')}@example.com`, password: 'short', consent: 'yes' }, 'too short'],
      [{ name: 'N', email: `${unique('a')}@example.com`, password: 'password123', consent: 'yes' }, 'most common'],
      [{ name: 'N', email: 'not-an-address', password: 'a long enough passphrase', consent: 'yes' }, 'Enter a valid email address.'],
      [{ name: '   ', email: `${unique('a')}@example.com`, password: 'a long enough passphrase', consent: 'yes' }, 'Enter your name.'],
      [{ name: 'Eve\r\nBcc: x@evil.example', email: `${unique('a')}@example.com`, password: 'a long enough passphrase', consent: 'yes' }, 'Enter your name.'],
      [{ name: 'N', email: `${unique('a')}@example.com\r\nBcc: x@evil.example`, password: 'a long enough passphrase', consent: 'yes' }, 'Enter a valid email address.'],
    ] as const) {
      const res = await register(f, fields);
      expect(res.statusCode, JSON.stringify(fields)).toBe(400);
      expect(res.body).toContain(says);
    }
    expect((await register(f, { name: 'N', email: `${unique('a')}@example.com`, password: 'a long enough passphrase', consent: 'yes' }, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await register(f, { name: 'N', email: `${unique('a')}@example.com`, password: 'a long enough passphrase', consent: 'yes', admin: 'true' })).statusCode).toBe(400);
    expect(await rowCounts(t)).toEqual(before);

    const email = `${unique('cross')}@example.com`;
    await register(f, { name: 'Cross', email, password: 'a long enough passphrase', consent: 'yes' });
    const link = await linkTo(email, 'member.verify');
    const token = link.split('/').at(-1)!;
    for (const [fx, url] of [[other, `/${other.slug}/verify/${token}`], [f, `/${f.slug}/verify/${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`], [f, `/${f.slug}/verify/${'z'.repeat(150)}`]] as const) {
      const res = await get(fx, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect((await memberOf(f, email))!.verified_at).toBeNull();
    t.clock.advance(24 * 3_600_000);
    expect((await get(f, link)).statusCode).toBe(400);
    expect((await memberOf(f, email))!.verified_at).toBeNull();
  });
});
