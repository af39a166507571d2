import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { passwordProblem } from '../../src/security/password-policy.js';
import { createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, csrfOf, postPortalForm } from '../helpers/portal-forms.js';

// P11 (password reset, changing a password), X2 (magic links), and the emailed links' rules:
// single use, expiring, only the newest works, only on its own portal, limited per recipient and
// per address, the same answer whether an address has an account or not.

const PASSWORD = 'customer password 123';

interface Fixture {
  host: string;
  slug: string;
  portalId: number;
  email: string;
  memberId: number;
}

describe.each(dialects)('emailed account links on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  let ipCounter = 0;
  const freshIp = () => `10.77.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

  async function portal(options: { methods?: ('password' | 'magic_link')[]; language?: 'en' | 'pl' } = {}): Promise<Fixture> {
    const s = t.app.services;
    const host = `${unique('help').toLowerCase()}.example.com`;
    const email = `${unique('member')}@example.com`;
    const contact = await s.contacts.create({ email, firstName: 'Cora', lastName: 'Customer' });
    const p = await s.portals.create({ name: 'Acme Help', domain: host, consentText: 'ok', signInMethods: options.methods ?? ['password', 'magic_link'], language: options.language ?? 'en' });
    await s.portals.update(p.id, { enabled: true });
    const member = await s.portals.createMember(p.id, contact.id, PASSWORD);
    return { host, slug: p.slug, portalId: p.id, email, memberId: member.id };
  }

  const get = (f: Fixture, url: string, headers: Record<string, string> = {}, ip = freshIp()) =>
    t.app.inject({ method: 'GET', url, headers: { host: f.host, ...headers }, remoteAddress: ip });

  const postForm = (f: Fixture, pageUrl: string, action: string, fields: Record<string, string>, ip = freshIp()) => postPortalForm(t.app, f.host, pageUrl, action, fields, { ip });

  async function signIn(f: Fixture, password = PASSWORD) {
    const res = await postForm(f, `/${f.slug}/sign-in`, `/${f.slug}/sign-in`, { email: f.email, password, next: `/${f.slug}` });
    return { status: res.statusCode, session: cookiesOf(res).portico_member };
  }

  const mails = (f: Fixture, kind: string) => t.app.deps.db.selectFrom('outbox').selectAll().where('to_address', '=', f.email).where('kind', '=', kind).orderBy('id').execute();
  /** The path of the newest link of `kind` mailed to the member. */
  async function linkOf(f: Fixture, kind: string): Promise<string> {
    const all = await mails(f, kind);
    const text = all.at(-1)?.text_body ?? '';
    const url = /https?:\/\/\S+/.exec(text)?.[0];
    if (url === undefined) throw new Error(`no link in ${kind} mail`);
    expect(new URL(url).hostname).toBe(f.host);
    return new URL(url).pathname;
  }
  /** Opens an emailed link's page and presses its one button, as a person would; `page` when given. */
  async function press(f: Fixture, link: string, page?: { body: string; cookie: string }) {
    const ip = freshIp();
    const opened = page ?? await (async () => {
      const res = await get(f, link, {}, ip);
      expect(res.statusCode, link).toBe(200);
      return { body: res.body, cookie: cookiesOf(res).portico_form ?? '' };
    })();
    return t.app.inject({
      method: 'POST', url: link, remoteAddress: ip,
      headers: { host: f.host, cookie: `portico_form=${opened.cookie}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf: csrfOf(opened.body) }).toString(),
    });
  }
  const sessionCount = async (f: Fixture) => (await t.app.deps.db.selectFrom('member_sessions').select('id_hash').where('member_id', '=', f.memberId).execute()).length;
  const passwordHash = async (f: Fixture) => (await t.app.deps.db.selectFrom('members').select('password_hash').where('id', '=', f.memberId).executeTakeFirstOrThrow()).password_hash;

  test('P11 a forgotten password: the same answer for any address, a mail with a one-hour link, a new password that ends every session', async () => {
    const f = await portal();
    const before = await signIn(f);
    expect(before.status).toBe(303);
    const signInPage = await get(f, `/${f.slug}/sign-in`);
    expect(signInPage.body).toContain(`href="/${f.slug}/password-reset"`);

    const known = await postForm(f, `/${f.slug}/password-reset`, `/${f.slug}/password-reset`, { email: f.email.toUpperCase() });
    const unknown = await postForm(f, `/${f.slug}/password-reset`, `/${f.slug}/password-reset`, { email: 'nobody@example.com' });
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(known.body.replaceAll(f.email.toUpperCase(), 'X').replace(/value="[^"]*"/g, '')).toBe(unknown.body.replaceAll('nobody@example.com', 'X').replace(/value="[^"]*"/g, ''));
    expect(await t.app.deps.db.selectFrom('outbox').select('id').where('to_address', '=', 'nobody@example.com').execute()).toEqual([]);
    const [mail] = await mails(f, 'member.reset');
    expect(mail).toMatchObject({ subject: 'Reset your password for Acme Help', portal_id: f.portalId, to_name: 'Cora Customer', status: 'queued' });
    expect(mail!.html_body).toContain('Choose a new password</a>');
    // Only a hash is stored: the token in the mail is not in the tokens table.
    const link = await linkOf(f, 'member.reset');
    const token = link.split('/').at(-1)!;
    expect(await t.app.deps.db.selectFrom('one_time_tokens').select('token_hash').where('token_hash', '=', token).execute()).toEqual([]);

    const form = await get(f, link);
    expect(form.statusCode).toBe(200);
    expect(form.headers['referrer-policy']).toBe('no-referrer');
    expect(form.body).toContain('autocomplete="new-password"');
    // The policy: too short, too common; the link still works after a refusal.
    for (const [password, says] of [['short', 'too short'], ['password123', 'most common'], ['x'.repeat(257), 'too long']] as const) {
      const refused = await postForm(f, link, link, { password });
      expect(refused.statusCode, password).toBe(400);
      expect(refused.body, password).toContain(says);
      expect(refused.body).toContain('<form method="post"');
    }
    const done = await postForm(f, link, link, { password: 'a new passphrase of mine' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/${f.slug}`);
    const fresh = cookiesOf(done).portico_member!;
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${fresh}` })).statusCode).toBe(200);
    // The old session ended; the old password no longer works; the new one does.
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${before.session!}` })).statusCode).toBe(303);
    expect(await sessionCount(f)).toBe(1);
    expect((await signIn(f)).status).toBe(401);
    expect((await signIn(f, 'a new passphrase of mine')).status).toBe(303);
    // Used once.
    const again = await get(f, link);
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('This link cannot be used');
  });

  test('P11 only the newest link works, for an hour, on its own portal; forged and malformed links change nothing', async () => {
    const f = await portal();
    const other = await portal();
    await postForm(f, `/${f.slug}/password-reset`, `/${f.slug}/password-reset`, { email: f.email });
    const first = await linkOf(f, 'member.reset');
    await postForm(f, `/${f.slug}/password-reset`, `/${f.slug}/password-reset`, { email: f.email });
    const second = await linkOf(f, 'member.reset');
    expect(second).not.toBe(first);
    const hash = await passwordHash(f);
    const token = second.split('/').at(-1)!;
    const attempts = [
      { url: first, why: 'replaced by a newer link' },
      { url: `/${other.slug}/password-reset/${token}`, why: 'another portal', fixture: other },
      { url: `/${f.slug}/password-reset/${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, why: 'forged' },
      { url: `/${f.slug}/password-reset/${'x'.repeat(200)}`, why: 'too long' },
      { url: `/${f.slug}/password-reset/%00%0d%0a`, why: 'control characters' },
      { url: `/${f.slug}/password-reset/..%2F..%2Fetc`, why: 'a path' },
    ];
    for (const a of attempts) {
      const fx = a.fixture ?? f;
      const page = await get(fx, a.url);
      expect(page.statusCode, a.why).toBeGreaterThanOrEqual(400);
      expect(page.statusCode, a.why).toBeLessThan(500);
      const post = await postForm(fx, `/${fx.slug}/sign-in`, a.url, { password: 'a fine new passphrase' });
      expect(post.statusCode, a.why).toBeGreaterThanOrEqual(400);
      expect(post.statusCode, a.why).toBeLessThan(500);
    }
    expect(await passwordHash(f)).toBe(hash);
    t.clock.advance(60 * 60_000);
    expect((await get(f, second)).statusCode).toBe(400);
    expect((await postForm(f, `/${f.slug}/sign-in`, second, { password: 'a fine new passphrase' })).statusCode).toBe(400);
    expect(await passwordHash(f)).toBe(hash);
  });

  test('X2 a magic link opens a page whose button signs the member in, once, within 15 minutes, and leaves a clean address; opening it alone (a mail scanner) spends nothing', async () => {
    const f = await portal({ language: 'pl' });
    const page = await get(f, `/${f.slug}/sign-in`);
    expect(page.body).toContain(`action="/${f.slug}/magic-link"`);
    const asked = await postForm(f, `/${f.slug}/sign-in`, `/${f.slug}/magic-link`, { email: f.email });
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('link do logowania');
    const [mail] = await mails(f, 'member.magic');
    expect(mail!.subject).toBe('Link do logowania w Acme Help');
    expect(mail!.text_body).toContain('Działa raz, przez 15 minut.');
    const link = await linkOf(f, 'member.magic');
    // A scanner (or a preview) opens the link, twice: no session, and the link still works.
    for (let i = 0; i < 2; i++) {
      const opened = await get(f, link);
      expect(opened.statusCode).toBe(200);
      expect(opened.body).toContain('<button type="submit">Zaloguj się</button>');
      expect(cookiesOf(opened).portico_member).toBeUndefined();
    }
    expect(await sessionCount(f)).toBe(0);
    // The button, posted from another site, lacks this browser's form token.
    const forged = await t.app.inject({ method: 'POST', url: link, headers: { host: f.host, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'csrf=forged', remoteAddress: freshIp() });
    expect(forged.statusCode).toBe(403);
    expect(await sessionCount(f)).toBe(0);
    const followed = await press(f, link);
    expect(followed.statusCode).toBe(303);
    expect(followed.headers.location).toBe(`/${f.slug}`);
    const session = cookiesOf(followed).portico_member!;
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${session}` })).statusCode).toBe(200);
    const reused = await get(f, link);
    expect(reused.statusCode).toBe(400);
    expect(reused.body).toContain('Tego linku nie można użyć');
    expect(reused.headers['set-cookie']).toBeUndefined();
    const pressedAgain = await press(f, link, { body: '<input name="csrf" value="x">', cookie: 'x' });
    expect(pressedAgain.statusCode).toBe(400);
    expect(cookiesOf(pressedAgain).portico_member).toBeUndefined();

    await postForm(f, `/${f.slug}/sign-in`, `/${f.slug}/magic-link`, { email: f.email });
    const late = await linkOf(f, 'member.magic');
    t.clock.advance(15 * 60_000);
    expect((await get(f, late)).statusCode).toBe(400);

    await postForm(f, `/${f.slug}/sign-in`, `/${f.slug}/magic-link`, { email: f.email });
    const disabledLink = await linkOf(f, 'member.magic');
    await t.app.services.portals.updateMember(f.portalId, f.memberId, { disabled: true });
    const refused = await get(f, disabledLink);
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  test('X2 P11 a portal offers only the methods it enables: no magic link, or no password', async () => {
    const passwordOnly = await portal({ methods: ['password'] });
    expect((await get(passwordOnly, `/${passwordOnly.slug}/sign-in`)).body).not.toContain('magic-link');
    expect((await postForm(passwordOnly, `/${passwordOnly.slug}/sign-in`, `/${passwordOnly.slug}/magic-link`, { email: passwordOnly.email })).statusCode).toBe(404);
    expect((await get(passwordOnly, `/${passwordOnly.slug}/magic-link/${'a'.repeat(43)}`)).statusCode).toBe(404);
    expect(await mails(passwordOnly, 'member.magic')).toEqual([]);

    const linkOnly = await portal({ methods: ['magic_link'] });
    const page = await get(linkOnly, `/${linkOnly.slug}/sign-in`);
    expect(page.body).toContain('magic-link');
    expect(page.body).not.toContain('type="password"');
    expect((await signIn(linkOnly)).status).toBe(404);
    expect((await get(linkOnly, `/${linkOnly.slug}/password-reset`)).statusCode).toBe(404);
  });

  test('X2 P11 requests for links are limited per recipient, and answer the same when limited', async () => {
    const f = await portal();
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await postForm(f, `/${f.slug}/password-reset`, `/${f.slug}/password-reset`, { email: f.email });
      expect(res.statusCode).toBe(200);
      answers.push(res.body.replace(/value="[^"]*"/g, ''));
    }
    expect(new Set(answers).size).toBe(1);
    expect(await mails(f, 'member.reset')).toHaveLength(3);
    t.clock.advance(3_600_001);
    await postForm(f, `/${f.slug}/password-reset`, `/${f.slug}/password-reset`, { email: f.email });
    expect(await mails(f, 'member.reset')).toHaveLength(4);
    // Request limits per client address and per address asked for: test/api/limits.test.ts.
  });

  test('P11 changing the password needs the current one; the other sessions end, this one stays', async () => {
    const f = await portal();
    const here = (await signIn(f)).session!;
    const elsewhere = (await signIn(f)).session!;
    const cookie = { cookie: `portico_member=${here}` };
    // Every page's header leads to the account pages, which lead to changing the password.
    const home = await get(f, `/${f.slug}`, cookie);
    expect(home.body).toContain(`href="/${f.slug}/account/email"`);
    expect((await get(f, `/${f.slug}/account/email`, cookie)).body).toContain(`href="/${f.slug}/account/password"`);
    const form = await get(f, `/${f.slug}/account/password`, cookie);
    expect(form.statusCode).toBe(200);
    const post = (fields: Record<string, string>) => t.app.inject({
      method: 'POST', url: `/${f.slug}/account/password`, remoteAddress: freshIp(),
      headers: { host: f.host, ...cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...fields, csrf: csrfOf(form.body) }).toString(),
    });
    const wrong = await post({ current: 'not it', password: 'another good passphrase' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('The current password is wrong.');
    const weak = await post({ current: PASSWORD, password: 'qwertyuiop' });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('most common');
    const forged = await t.app.inject({ method: 'POST', url: `/${f.slug}/account/password`, headers: { host: f.host, ...cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `current=${encodeURIComponent(PASSWORD)}&password=another+good+passphrase&csrf=forged` });
    expect(forged.statusCode).toBe(403);
    const ok = await post({ current: PASSWORD, password: 'another good passphrase' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('Your password was changed');
    expect((await get(f, `/${f.slug}`, cookie)).statusCode).toBe(200);
    expect((await get(f, `/${f.slug}`, { cookie: `portico_member=${elsewhere}` })).statusCode).toBe(303);
    expect((await signIn(f, 'another good passphrase')).status).toBe(303);
  });
});

describe.each(dialects)('changing the email address on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  test('P11 a member changes their email with the current password and a link to the new address; the old address is told', async () => {
    const s = t.app.services;
    const host = `${unique('mail').toLowerCase()}.example.com`;
    const email = `${unique('old')}@example.com`;
    const contact = await s.contacts.create({ email, firstName: 'Eddie' });
    const p = await s.portals.create({ name: 'Acme Help', domain: host, consentText: 'ok' });
    await s.portals.update(p.id, { enabled: true });
    await s.portals.createMember(p.id, contact.id, PASSWORD);
    const taken = (await s.contacts.create({ email: `${unique('taken')}@example.com` })).email;
    const fresh = `${unique('new')}@example.com`;

    const signIn = async (address: string) => {
      const page = await t.app.inject({ method: 'GET', url: `/${p.slug}/sign-in`, headers: { host } });
      const res = await t.app.inject({
        method: 'POST', url: `/${p.slug}/sign-in`, remoteAddress: `10.33.0.${Math.floor(Math.random() * 250)}`,
        headers: { host, cookie: `portico_form=${cookiesOf(page).portico_form!}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email: address, password: PASSWORD, csrf: csrfOf(page.body) }).toString(),
      });
      return { status: res.statusCode, session: cookiesOf(res).portico_member };
    };
    const session = (await signIn(email)).session!;
    const cookie = { cookie: `portico_member=${session}` };
    const form = await t.app.inject({ method: 'GET', url: `/${p.slug}/account/email`, headers: { host, ...cookie } });
    expect(form.body).toContain(`You sign in with ${email}.`);
    const change = (fields: Record<string, string>) => t.app.inject({
      method: 'POST', url: `/${p.slug}/account/email`, remoteAddress: `10.33.1.${Math.floor(Math.random() * 250)}`,
      headers: { host, ...cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...fields, csrf: csrfOf(form.body) }).toString(),
    });
    for (const [fields, says] of [
      [{ email: fresh, current: 'wrong' }, 'The current password is wrong.'],
      [{ email: email.toUpperCase(), current: PASSWORD }, 'That is your address already.'],
      [{ email: 'nope', current: PASSWORD }, 'Enter a valid email address.'],
    ] as const) {
      const res = await change(fields);
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(says);
    }
    const onTaken = await change({ email: taken, current: PASSWORD });
    const onFresh = await change({ email: fresh, current: PASSWORD });
    expect(onTaken.statusCode).toBe(200);
    expect(onFresh.body.replaceAll(fresh, 'X')).toBe(onTaken.body.replaceAll(taken, 'X'));
    const mailsTo = (to: string, kind: string) => t.app.deps.db.selectFrom('outbox').selectAll().where('to_address', '=', to).where('kind', '=', kind).execute();
    expect(await mailsTo(taken, 'member.email')).toEqual([]);
    const [confirm] = await mailsTo(fresh, 'member.email');
    expect(confirm!.subject).toBe('Confirm your new email address for Acme Help');
    // Nothing changes before the link.
    expect((await signIn(email)).status).toBe(303);
    const link = new URL(/https?:\/\/\S+/.exec(confirm!.text_body)![0]).pathname;
    const opened = await t.app.inject({ method: 'GET', url: link, headers: { host } });
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain(`Press the button to sign in with ${fresh} from now on.`);
    expect((await s.contacts.get(contact.id)).email).toBe(email);
    const done = await t.app.inject({
      method: 'POST', url: link, headers: { host, cookie: `portico_form=${cookiesOf(opened).portico_form!}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf: csrfOf(opened.body) }).toString(),
    });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain(`You now sign in with ${fresh}.`);
    expect((await mailsTo(email, 'member.email-changed'))[0]!.text_body).toContain(fresh);
    expect((await signIn(fresh)).status).toBe(303);
    expect((await signIn(email)).status).toBe(401);
    expect((await s.contacts.get(contact.id)).email).toBe(fresh);
    expect((await t.app.inject({ method: 'GET', url: link, headers: { host } })).statusCode).toBe(400);
    // The session that asked is still good.
    expect((await t.app.inject({ method: 'GET', url: `/${p.slug}`, headers: { host, ...cookie } })).statusCode).toBe(200);
  });
});

describe('the password policy', () => {
  test('P11 at least 8 characters as people count them, up to 256, no composition rules, no breached password', () => {
    expect(passwordProblem('1234567')).toBe('too_short');
    expect(passwordProblem('   a   b   ')).toBe('too_short');
    expect(passwordProblem('😀😀😀😀😀😀😀')).toBe('too_short');
    expect(passwordProblem('😀😀😀😀😀😀😀😀')).toBeUndefined();
    expect(passwordProblem('x'.repeat(256))).toBeUndefined();
    expect(passwordProblem('x'.repeat(257))).toBe('too_long');
    expect(passwordProblem('correct horse battery staple')).toBeUndefined();
    expect(passwordProblem('alllowercaseletters')).toBeUndefined();
    for (const common of ['password', 'PASSWORD1', '12345678', 'iloveyou', 'sunshine', 'qwertyuiop']) expect(passwordProblem(common), common).toBe('common');
  });
});
