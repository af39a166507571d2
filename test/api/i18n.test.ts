import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { cookiesOf, csrfOf } from '../helpers/portal-forms.js';

// The portal's languages: the primary language of every page (P7), the visitor's own choice
// among those the portal offers (X1), the admin's wording (overrides), dates in the portal's zone.

interface Fixture {
  host: string;
  slug: string;
  portalId: number;
  email: string;
  contactId: number;
  pipelineId: number;
}

const PASSWORD = 'customer password 123';

describe.each(dialects)('portal languages on %s', (dialect) => {
  let t: TestApp;
  let settings: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    settings = await createStaff(t, { permissions: ['portal_settings'] });
  });
  afterAll(async () => {
    await t.close();
  });
  const call = caller(() => t, () => settings);

  async function portal(options: { language?: 'en' | 'pl'; languages?: ('en' | 'pl')[]; timeZone?: string } = {}): Promise<Fixture> {
    const s = t.app.services;
    const host = `${unique('support').toLowerCase()}.example.com`;
    const email = `${unique('customer')}@example.com`;
    const contact = await s.contacts.create({ email, firstName: 'Cora', lastName: 'Customer' });
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Waiting on us', state: 'open' }, { name: 'Solved', state: 'closed' }] });
    const p = await s.portals.create({
      name: 'Acme Help', title: 'Acme · your tickets', domain: host, consentText: 'ok',
      language: options.language ?? 'en', languages: options.languages ?? [], timeZone: options.timeZone ?? 'UTC',
    });
    await s.portals.update(p.id, { enabled: true });
    await s.portals.createMember(p.id, contact.id, PASSWORD);
    return { host, slug: p.slug, portalId: p.id, email, contactId: contact.id, pipelineId: pipeline.id };
  }

  const get = (f: Fixture, url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers: { host: f.host, ...headers } });

  async function signIn(f: Fixture, headers: Record<string, string> = {}): Promise<string> {
    const ip = `10.8.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host, ...headers }, remoteAddress: ip });
    const form = cookiesOf(page).portico_form!;
    const res = await t.app.inject({
      method: 'POST', url: `/${f.slug}/sign-in`, remoteAddress: ip,
      headers: { host: f.host, cookie: `portico_form=${form}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams({ email: f.email, password: PASSWORD, csrf: csrfOf(page.body), next: `/${f.slug}` }).toString(),
    });
    expect(res.statusCode).toBe(303);
    return cookiesOf(res).portico_member!;
  }

  const langOf = (html: string) => /<html lang="([^"]*)">/.exec(html)?.[1];

  async function ticketsFor(f: Fixture, n: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push((await t.app.services.tickets.create({ subject: `Ticket ${i} ${unique('s')}`, pipelineId: f.pipelineId, contactIds: [f.contactId] }, null)).id);
    return ids;
  }

  test('P7 a portal’s primary language decides every page: sign-in, its error, the list, a ticket, error pages; changing it changes them all at once', async () => {
    const f = await portal({ language: 'pl' });
    const [id] = await ticketsFor(f, 5);
    const signInPage = await get(f, `/${f.slug}/sign-in`, { 'accept-language': 'en-US,en;q=0.9' });
    expect(langOf(signInPage.body)).toBe('pl');
    expect(signInPage.body).toContain('<h1>Logowanie</h1>');
    expect(signInPage.body).toContain('>Zaloguj się</button>');
    expect(signInPage.body).toContain('<title>Logowanie · Acme Help</title>');
    // One language offered: no switch on the page.
    expect(signInPage.body).not.toContain('action="/tickets/language"');

    const session = await signIn(f);
    const cookie = { cookie: `portico_member=${session}` };
    const list = await get(f, `/${f.slug}/tickets`, cookie);
    expect(langOf(list.body)).toBe('pl');
    expect(list.body).toContain('<h1>Zgłoszenia</h1>');
    expect(list.body).toContain('<caption>Wyświetlono 5 zgłoszeń</caption>');
    expect(list.body).toContain('>Otwarte</span>');
    expect(list.body).toContain('>Wyloguj się</button>');
    const detail = await get(f, `/${f.slug}/${id}`, cookie);
    expect(detail.body).toContain('Otwarto <time');
    expect(detail.body).toContain('0 wiadomości');
    expect(detail.body).toContain('(najwyżej 10 plików)');
    const missing = await get(f, `/${f.slug}/999999999`, cookie);
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('Nie znaleziono strony');
    const empty = await t.app.inject({
      method: 'POST', url: `/${f.slug}/${id}/reply`,
      headers: { host: f.host, ...cookie, 'content-type': 'multipart/form-data; boundary=b' },
      payload: `--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${csrfOf(list.body)}\r\n--b\r\nContent-Disposition: form-data; name="body"\r\n\r\n  \r\n--b--\r\n`,
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('Napisz wiadomość lub dołącz plik.');

    const changed = await call('PATCH', `/api/v1/portals/${f.portalId}`, { language: 'en' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ language: 'en', languages: ['en'] });
    const after = await get(f, `/${f.slug}/tickets`, cookie);
    expect(langOf(after.body)).toBe('en');
    expect(after.body).toContain('<caption>Showing 5 tickets</caption>');
    expect(after.body).not.toContain('Zgłoszenia');
    expect((await get(f, `/${f.slug}/sign-in`, { 'accept-language': 'pl' })).body).toContain('<h1>Sign in</h1>');
    expect((await get(f, `/${f.slug}/999999999`, cookie)).body).toContain('Page not found');
  });

  test('X1 a visitor’s language: the switch, then the saved preference, then Accept-Language, then the primary language; the URL stays the same', async () => {
    const f = await portal({ language: 'en', languages: ['pl'] });
    await ticketsFor(f, 2);
    const page = async (headers: Record<string, string>) => langOf((await get(f, `/${f.slug}/sign-in`, headers)).body);
    expect(await page({})).toBe('en');
    expect(await page({ 'accept-language': 'pl-PL,pl;q=0.9,en;q=0.5' })).toBe('pl');
    expect(await page({ 'accept-language': 'de-DE,de;q=0.9' })).toBe('en');
    expect(await page({ 'accept-language': 'en;q=0.2,pl;q=0.8' })).toBe('pl');
    expect(await page({ cookie: 'portico_lang=pl', 'accept-language': 'en' })).toBe('pl');
    // Junk falls back, never fails.
    for (const junk of [';;;,,,q=x', 'x'.repeat(2000), '*;q=abc', 'pl;q=-1', '\u00ff']) {
      const res = await get(f, `/${f.slug}/sign-in`, { 'accept-language': junk });
      expect(res.statusCode).toBe(200);
    }
    expect(await page({ cookie: 'portico_lang=xx' })).toBe('en');
    expect(await page({ cookie: 'portico_lang=%00%0d' })).toBe('en');

    // The switch, before sign-in: the form's double-submit token, a cookie, the same URL.
    const signInPage = await get(f, `/${f.slug}/sign-in?next=%2Ftickets%2F1`);
    expect(signInPage.headers.vary).toBe('Accept-Language, Cookie');
    expect(signInPage.body).toContain('<option value="pl" lang="pl">Polski</option>');
    const form = cookiesOf(signInPage).portico_form!;
    const here = `/${f.slug}/sign-in?next=%2Ftickets%2F1`;
    expect(signInPage.body).toContain(`name="next" value="${here.replace(/&/g, '&amp;')}"`);
    const switched = await t.app.inject({
      method: 'POST', url: `/${f.slug}/language`,
      headers: { host: f.host, cookie: `portico_form=${form}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ language: 'pl', csrf: csrfOf(signInPage.body), next: here }).toString(),
    });
    expect(switched.statusCode).toBe(303);
    expect(switched.headers.location).toBe(here);
    expect(cookiesOf(switched).portico_lang).toBe('pl');
    expect(String(switched.headers['set-cookie'])).toMatch(/HttpOnly/i);

    // Signed in, the switch is also saved on the member: a new device without the cookie gets it.
    const session = await signIn(f);
    const list = await get(f, `/${f.slug}`, { cookie: `portico_member=${session}` });
    expect(langOf(list.body)).toBe('en');
    const toPolish = await t.app.inject({
      method: 'POST', url: `/${f.slug}/language`,
      headers: { host: f.host, cookie: `portico_member=${session}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ language: 'pl', csrf: csrfOf(list.body), next: `/${f.slug}?status=open` }).toString(),
    });
    expect(toPolish.statusCode).toBe(303);
    expect(toPolish.headers.location).toBe(`/${f.slug}?status=open`);
    const saved = await t.app.deps.db.selectFrom('members').select('language').where('portal_id', '=', f.portalId).executeTakeFirstOrThrow();
    expect(saved.language).toBe('pl');
    const elsewhere = await signIn(f);
    const polishList = await get(f, `/${f.slug}/tickets`, { cookie: `portico_member=${elsewhere}`, 'accept-language': 'en' });
    expect(langOf(polishList.body)).toBe('pl');
    expect(polishList.body).toContain('Wyświetlono 2 zgłoszenia');
    // The explicit switch on this browser beats the saved preference.
    expect(langOf((await get(f, `/${f.slug}`, { cookie: `portico_member=${elsewhere}; portico_lang=en` })).body)).toBe('en');

    // Forged, or an unknown language: refused, or forgotten back to the negotiated language.
    const forged = await t.app.inject({
      method: 'POST', url: `/${f.slug}/language`,
      headers: { host: f.host, cookie: `portico_member=${session}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ language: 'pl', csrf: 'forged', next: `/${f.slug}` }).toString(),
    });
    expect(forged.statusCode).toBe(403);
    const unknown = await t.app.inject({
      method: 'POST', url: `/${f.slug}/language`,
      headers: { host: f.host, cookie: `portico_member=${session}; portico_lang=pl`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ language: 'klingon', csrf: csrfOf(list.body), next: 'https://evil.example/' }).toString(),
    });
    expect(unknown.statusCode).toBe(303);
    expect(unknown.headers.location).toBe(`/${f.slug}`);
    expect(String(unknown.headers['set-cookie'])).toMatch(/^portico_lang=;/);

    // A language the portal stops offering is no longer chosen, whatever the visitor asked.
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { languages: [] });
    expect(langOf((await get(f, `/${f.slug}`, { cookie: `portico_member=${elsewhere}; portico_lang=pl`, 'accept-language': 'pl' })).body)).toBe('en');
  });

  test('X1 language settings: an unknown language or time zone is a clear 400; the primary language is always offered; zones are stored by their canonical name', async () => {
    const created = await call('POST', '/api/v1/portals', { name: unique('Brand'), language: 'pl', languages: ['en'], timeZone: 'europe/warsaw' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ language: 'pl', languages: ['pl', 'en'], timeZone: 'Europe/Warsaw' });
    const id = created.json<{ id: number }>().id;
    for (const [body, path] of [
      [{ language: 'de' }, '/body/language'], [{ language: 'en-GB' }, '/body/language'], [{ languages: ['en', 'xx'] }, '/body/languages/1'],
      [{ languages: ['en', 'en'] }, '/body/languages'], [{ timeZone: 'Mars/Olympus_Mons' }, '/body/timeZone'], [{ timeZone: '+01:00' }, '/body/timeZone'],
      [{ timeZone: '../../etc/passwd' }, '/body/timeZone'], [{ timeZone: '' }, '/body/timeZone'],
    ] as const) {
      const res = await call('PATCH', `/api/v1/portals/${id}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
    }
    const unchanged = (await call('GET', `/api/v1/portals/${id}`)).json();
    expect(unchanged).toMatchObject({ language: 'pl', languages: ['pl', 'en'], timeZone: 'Europe/Warsaw' });
    const languages = await call('GET', '/api/v1/languages');
    expect(languages.json()).toEqual({ items: [{ code: 'en', name: 'English' }, { code: 'pl', name: 'Polski' }] });
  });

  test('X1 dates are shown in the portal’s time zone and language', async () => {
    const f = await portal({ language: 'pl', timeZone: 'Pacific/Auckland' });
    t.clock.set(Date.UTC(2026, 10, 25, 20, 0)); // 26 Nov 2026, 09:00 in Auckland
    const [id] = await ticketsFor(f, 1);
    const session = await signIn(f);
    const list = await get(f, `/${f.slug}`, { cookie: `portico_member=${session}` });
    expect(list.body).toContain('<time datetime="2026-11-25T20:00:00.000Z">26 lis 2026</time>');
    const detail = await get(f, `/${f.slug}/${id}`, { cookie: `portico_member=${session}` });
    expect(detail.body).toContain('<time datetime="2026-11-25T20:00:00.000Z">26 lis 2026, 09:00</time>');
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { timeZone: 'America/New_York', language: 'en' });
    const later = await get(f, `/${f.slug}`, { cookie: `portico_member=${session}` });
    expect(later.body).toContain('<time datetime="2026-11-25T20:00:00.000Z">Nov 25, 2026</time>');
  });

  test('X1 an admin overrides any message per portal and language; a broken message, an unknown value or key is refused with the reason, and nothing is saved', async () => {
    const f = await portal({ language: 'pl', languages: ['en'] });
    await ticketsFor(f, 3);
    const url = `/api/v1/portals/${f.portalId}/messages/pl`;
    const before = await call('GET', url);
    expect(before.statusCode).toBe(200);
    expect(before.json().items).toContainEqual({ key: 'tickets.heading', default: 'Zgłoszenia', override: null });

    const saved = await call('PATCH', url, { messages: { 'tickets.heading': 'Twoje <sprawy>', 'tickets.shown': '{count, plural, one {# sprawa} few {# sprawy} many {# spraw} other {# sprawy}}' } });
    expect(saved.statusCode).toBe(200);
    expect(saved.json().items).toContainEqual({ key: 'tickets.heading', default: 'Zgłoszenia', override: 'Twoje <sprawy>' });
    const session = await signIn(f);
    const list = await get(f, `/${f.slug}/tickets`, { cookie: `portico_member=${session}` });
    expect(list.body).toContain('<h1>Twoje &lt;sprawy&gt;</h1>');
    expect(list.body).toContain('<caption>3 sprawy</caption>');
    // Only for that language: English visitors keep the catalogue's words.
    expect((await get(f, `/${f.slug}/tickets`, { cookie: `portico_member=${session}; portico_lang=en` })).body).toContain('<h1>Tickets</h1>');

    const refusals: [Record<string, unknown>, string, RegExp][] = [
      [{ 'tickets.shown': '{count, plural, one {# sprawa}' }, '/body/messages/tickets.shown', /not a valid ICU message/],
      [{ 'tickets.shown': '{count, plural, one {# sprawa} few {# sprawy}}' }, '/body/messages/tickets.shown', /missing other clause/],
      [{ 'tickets.heading': 'Hello {name}' }, '/body/messages/tickets.heading', /uses \{name\}.*takes no values/],
      [{ 'tickets.shown': '{total} sprawy' }, '/body/messages/tickets.shown', /uses \{total\}.*may use \{count\}/],
      [{ 'no.such.key': 'x' }, '/body/messages/no.such.key', /no message with this key/],
      [{ 'no.such.key': null }, '/body/messages/no.such.key', /no message with this key/],
      [{ 'tickets.heading': 'x'.repeat(2001) }, '/body/messages/tickets.heading', /2,000 characters/],
    ];
    for (const [messages, path, reason] of refusals) {
      const res = await call('PATCH', url, { messages: { 'tickets.none': 'To też by się zapisało', ...messages } });
      expect(res.statusCode, JSON.stringify(messages)).toBe(400);
      const error = (res.json().errors as { path: string; message: string }[]).find((e) => e.path === path);
      expect(error?.message, JSON.stringify(res.json())).toMatch(reason);
    }
    for (const bad of [{}, { messages: {} }, { messages: { 'tickets.heading': 5 } }, { messages: 'x' }, { other: 1 }]) {
      expect((await call('PATCH', url, bad)).statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await call('PATCH', `/api/v1/portals/${f.portalId}/messages/de`, { messages: { 'tickets.heading': 'x' } })).statusCode).toBe(400);
    expect((await call('GET', `/api/v1/portals/999999/messages/pl`)).statusCode).toBe(404);
    expect((await call('PATCH', `/api/v1/portals/999999/messages/pl`, { messages: { 'tickets.heading': 'x' } })).statusCode).toBe(404);
    const agent = await createStaff(t, { permissions: ['manage_settings'] });
    expect((await call('GET', url, undefined, agent)).statusCode).toBe(403);
    expect((await call('PATCH', url, { messages: { 'tickets.heading': 'x' } }, agent)).statusCode).toBe(403);
    const kept = (await call('GET', url)).json().items as { key: string; override: string | null }[];
    expect(kept.find((i) => i.key === 'tickets.none')?.override).toBeNull();
    expect(kept.find((i) => i.key === 'tickets.heading')?.override).toBe('Twoje <sprawy>');

    // null goes back to the catalogue's message.
    expect((await call('PATCH', url, { messages: { 'tickets.heading': null } })).statusCode).toBe(200);
    expect((await get(f, `/${f.slug}/tickets`, { cookie: `portico_member=${session}` })).body).toContain('<h1>Zgłoszenia</h1>');
  });
});
