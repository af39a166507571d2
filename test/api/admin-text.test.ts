import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cookiesOf, csrfOf, postPortalForm, multipartForm } from '../helpers/portal-forms.js';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

// X1 with P5 P14 P23 P25 P33 C8: the text admins type (the portal's name and title, consent
// notice and label, menu labels, custom stage names, the support form's words, the knowledge
// base) in the visitor's language, falling back to the text as written.

const PASSWORD = 'correct horse battery staple';

/** Every admin-typed text of the translated fixture, as written (English) and in Polish. */
const ENGLISH = {
  name: 'Acme Helpdesk Centre', title: 'Acme ticket overview', consentText: 'We process your details to answer you.', consentLabel: 'I agree to processing',
  menu: 'Service status page', stage: 'Awaiting our reply', label: 'Describe the trouble', help: 'Tell us what you tried first', optionA: 'Billing', optionB: 'Hardware',
  category: 'Getting connected', categoryText: 'Cables and routers explained', article: 'Restarting the router', body: 'Unplug the router for ten seconds',
} as const;
const POLISH = {
  name: 'Centrum pomocy Acme', title: 'Przegląd zgłoszeń Acme', consentText: 'Przetwarzamy Twoje dane, aby Ci odpowiedzieć.', consentLabel: 'Zgadzam się na przetwarzanie',
  menu: 'Strona stanu usług', stage: 'Czekamy na odpowiedź', label: 'Opisz kłopot', help: 'Napisz, co już próbowałeś', optionA: 'Rozliczenia', optionB: 'Sprzęt',
  category: 'Podłączanie', categoryText: 'Kable i routery w skrócie', article: 'Ponowne uruchamianie routera', body: 'Odłącz router na dziesięć sekund',
} as const;

/**
 * The English texts with a word put in (“Awaiting fallback our reply”), so that another test's
 * data never holds the first test's texts (the knowledge base is one for all portals).
 */
function variant(word: string): Record<keyof typeof ENGLISH, string> {
  return Object.fromEntries(Object.entries(ENGLISH).map(([k, v]) => [k, v.includes(' ') ? v.replace(' ', ` ${word} `) : `${v} ${word}`])) as Record<keyof typeof ENGLISH, string>;
}

describe.each(dialects)('admin-typed text in the visitor’s language on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { role: 'admin' });
  });
  afterAll(async () => {
    await t.close();
  });
  const call = caller(() => t, () => admin);

  /** A portal (English, offering Polish) with a member, a ticket in a custom stage, a support form and a knowledge base article. */
  async function fixture(words: Record<keyof typeof ENGLISH, string>, translated: Partial<Record<keyof typeof ENGLISH, string>>) {
    const s = t.app.services;
    const { inbox } = await s.inboxes.create(unique('Inbox'));
    await s.inboxes.addChannel(inbox.id, { type: 'form', name: 'Web form' });
    const pipeline = await call('POST', '/api/v1/pipelines', { name: unique('P'), stages: [{ name: words.stage, state: 'open' }, { name: 'Done', state: 'closed' }] });
    expect(pipeline.statusCode, pipeline.body).toBe(201);
    const { id: pipelineId, stages } = pipeline.json<{ id: number; stages: { id: number }[] }>();
    const stage = await call('PATCH', `/api/v1/pipelines/${pipelineId}/stages/${stages[0]!.id}`, { translations: { pl: { name: translated.stage ?? '' } } });
    expect(stage.statusCode, stage.body).toBe(200);
    await s.inboxes.update(inbox.id, { pipelineId });

    const form = await call('POST', '/api/v1/forms', {
      name: 'Support request', inboxId: inbox.id,
      fields: [
        { key: 'subject', label: 'Subject', type: 'text', required: true, maps: 'subject' },
        { key: 'details', label: words.label, help: words.help, type: 'textarea', required: true, maps: 'description' },
        { key: 'area', label: 'Area', type: 'choice', required: true, options: [words.optionA, words.optionB], maps: 'category' },
      ],
      translations: { pl: { subject: { label: 'Temat' }, details: { label: translated.label ?? '', help: translated.help ?? '' }, area: { label: 'Obszar', options: [translated.optionA ?? '', translated.optionB ?? ''] } } },
    });
    expect(form.statusCode, form.body).toBe(201);

    const category = await call('POST', '/api/v1/kb/categories', { name: words.category, description: words.categoryText, translations: { pl: { name: translated.category, description: translated.categoryText } } });
    expect(category.statusCode, category.body).toBe(201);
    const article = await call('POST', '/api/v1/kb/articles', {
      categoryId: category.json<{ id: number }>().id, title: words.article, published: true, body: `${words.body}, then **wait**.`,
      translations: { pl: { title: translated.article, body: translated.body === undefined ? undefined : `${translated.body}, potem **czekaj**.\n\n<script>alert(1)</script>` } },
    });
    expect(article.statusCode, article.body).toBe(201);

    const host = `${unique('words').toLowerCase()}.example.com`;
    const portal = await call('POST', '/api/v1/portals', {
      name: words.name, title: words.title, domain: host, language: 'en', languages: ['pl'], consentText: words.consentText, consentLabel: words.consentLabel,
      signInMethods: ['password'], selfRegistration: true, showCustomStages: true, formId: form.json<{ id: number }>().id,
      menu: [{ label: words.menu, url: 'https://status.example.com' }],
      translations: { pl: { name: translated.name, title: translated.title, consentText: translated.consentText, consentLabel: translated.consentLabel, menuLabels: [translated.menu ?? ''] } },
    });
    expect(portal.statusCode, portal.body).toBe(201);
    const { id: portalId, slug } = portal.json<{ id: number; slug: string }>();
    expect((await call('PATCH', `/api/v1/portals/${portalId}`, { enabled: true })).statusCode).toBe(200);

    const contact = await s.contacts.create({ email: `${unique('m')}@example.com`, firstName: 'Maja' });
    await s.portals.createMember(portalId, contact.id, PASSWORD);
    const ticket = await s.tickets.create({ subject: 'Router keeps dropping', pipelineId, contactIds: [contact.id] }, null);
    const ip = `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const signIn = await postPortalForm(t.app, host, `/${slug}/sign-in`, `/${slug}/sign-in`, { email: contact.email, password: PASSWORD }, { ip });
    expect(signIn.statusCode).toBe(303);
    const cookie = `portico_member=${cookiesOf(signIn).portico_member ?? ''}`;
    return { host, slug, portalId, ip, cookie, ticketId: ticket.id, articleSlug: article.json<{ slug: string }>().slug, formId: form.json<{ id: number }>().id };
  }
  type Fixture = Awaited<ReturnType<typeof fixture>>;

  const get = (f: Fixture, url: string, language: 'en' | 'pl', signedIn = true) => t.app.inject({
    method: 'GET', url, remoteAddress: f.ip, headers: { host: f.host, 'accept-language': language, ...(signedIn ? { cookie: f.cookie } : {}) },
  });

  test('X1 P5 P14 P23 P25 P33 C8 a Polish visitor reads every admin-typed text in Polish on every page: sign-in, registration, tickets, a ticket, the support form, the knowledge base, its search and suggestions', async () => {
    const f = await fixture(ENGLISH, POLISH);
    const pages: [string, string, boolean][] = [
      ['sign-in', `/${f.slug}/sign-in`, false],
      ['registration', `/${f.slug}/register`, false],
      ['home', `/${f.slug}`, true],
      ['ticket list', `/${f.slug}/tickets`, true],
      ['ticket', `/${f.slug}/${f.ticketId}`, true],
      ['support form', `/${f.slug}/new`, true],
      ['knowledge base', `/${f.slug}/kb`, false],
      ['article', `/${f.slug}/kb/${f.articleSlug}`, false],
      ['search', `/${f.slug}/kb?q=router`, false],
      ['suggestions', `/${f.slug}/kb-suggest?q=router`, false],
    ];
    const bodies: Record<string, string> = {};
    for (const [name, url, signedIn] of pages) {
      const res = await get(f, url, 'pl', signedIn);
      expect(res.statusCode, `${name}: ${res.body.slice(0, 300)}`).toBe(200);
      bodies[name] = res.body;
      for (const [key, english] of Object.entries(ENGLISH)) expect(res.body, `${name} shows the English ${key}`).not.toContain(english);
    }
    const has = (name: string, ...texts: string[]) => {
      for (const text of texts) expect(bodies[name], `${name} lacks “${text}”`).toContain(text);
    };
    // The browser tab: the page and the portal's name before sign-in, the portal's title after (P5),
    // after the page's own name on every page but the home page.
    has('sign-in', `<title>Logowanie · ${POLISH.name}</title>`, POLISH.menu);
    has('registration', POLISH.consentText, POLISH.consentLabel, POLISH.menu);
    has('home', `<title>${POLISH.title}</title>`, POLISH.stage, POLISH.menu, POLISH.article);
    has('ticket list', `<title>Zgłoszenia · ${POLISH.title}</title>`, POLISH.stage, POLISH.menu);
    has('ticket', ` · ${POLISH.title}</title>`, POLISH.stage);
    has('support form', `<title>Wyślij zgłoszenie · ${POLISH.title}</title>`, POLISH.label, POLISH.help, `<option>${POLISH.optionA}</option>`, `<option>${POLISH.optionB}</option>`, 'Temat', 'Obszar');
    // The help text is the field's description for screen readers (its id, named by the field).
    has('support form', 'id="f-details-help"', 'aria-describedby="f-details-help"');
    has('knowledge base', POLISH.category, POLISH.categoryText, POLISH.article, POLISH.name);
    has('article', POLISH.article, `${POLISH.body}, potem <strong>czekaj</strong>.`, POLISH.category);
    expect(bodies.article).not.toContain('<script>');
    has('search', POLISH.article);
    expect(JSON.parse(bodies.suggestions!)).toMatchObject({ items: [{ title: POLISH.article }] });
    // Found by the Polish words too.
    expect((await get(f, `/${f.slug}/kb?q=dziesięć sekund`, 'pl', false)).body).toContain(POLISH.article);

    // The same pages in English: the text as written.
    expect((await get(f, `/${f.slug}`, 'en')).body).toContain(`<title>${ENGLISH.title}</title>`);
    expect((await get(f, `/${f.slug}/${f.ticketId}`, 'en')).body).toContain(ENGLISH.stage);
    expect((await get(f, `/${f.slug}/register`, 'en', false)).body).toContain(ENGLISH.consentLabel);
    expect((await get(f, `/${f.slug}/kb/${f.articleSlug}`, 'en', false)).body).toContain('then <strong>wait</strong>.');

    // The customer picks the Polish option; the ticket keeps the option as written.
    const token = csrfOf((await get(f, `/${f.slug}/new`, 'pl')).body);
    const body = multipartForm([['csrf', token], ['f_subject', 'Nie działa'], ['f_details', 'Router gaśnie'], ['f_area', POLISH.optionB]]);
    const sent = await t.app.inject({ method: 'POST', url: `/${f.slug}/new`, remoteAddress: f.ip, headers: { host: f.host, cookie: f.cookie, 'accept-language': 'pl', ...body.headers }, payload: body.payload });
    expect(sent.statusCode, sent.body.slice(0, 500)).toBe(303);
    const ticketId = Number(/\/(\d+)$/.exec(String(sent.headers.location))?.[1]);
    expect((await t.app.services.tickets.get(ticketId)).category).toBe(ENGLISH.optionB);
    // A mistake shows the form again with the Polish option still chosen.
    const again = multipartForm([['csrf', token], ['f_subject', ''], ['f_details', 'x'], ['f_area', POLISH.optionA]]);
    const wrong = await t.app.inject({ method: 'POST', url: `/${f.slug}/new`, remoteAddress: f.ip, headers: { host: f.host, cookie: f.cookie, 'accept-language': 'pl', ...again.headers }, payload: again.payload });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain(`<option selected>${POLISH.optionA}</option>`);
  });

  test('X1 P33 C8 a text without its translation falls back to the text as written: a Polish visitor reads the primary text where the admin left one out', async () => {
    const english = variant('fallback');
    // Only the title is translated.
    const f = await fixture(english, { title: 'Tylko tytuł po polsku' });
    const list = (await get(f, `/${f.slug}`, 'pl')).body;
    expect(list).toContain('<title>Tylko tytuł po polsku</title>');
    expect(list).toContain(english.stage);
    expect(list).toContain(english.menu);
    const register = (await get(f, `/${f.slug}/register`, 'pl', false)).body;
    expect(register).toContain('<h1>Załóż konto</h1>');
    expect(register).toContain(english.consentLabel);
    expect(register).toContain(english.consentText);
    expect((await get(f, `/${f.slug}/sign-in`, 'pl', false)).body).toContain(`<title>Logowanie · ${english.name}</title>`);
    const form = (await get(f, `/${f.slug}/new`, 'pl')).body;
    expect(form).toContain(english.label);
    expect(form).toContain(`<option>${english.optionA}</option>`);
    expect(form).toContain('Temat');
    const article = (await get(f, `/${f.slug}/kb/${f.articleSlug}`, 'pl', false)).body;
    expect(article).toContain(english.article);
    expect(article).toContain('then <strong>wait</strong>.');
    const suggested = (await get(f, `/${f.slug}/kb-suggest?q=Restarting fallback`, 'pl', false)).json<{ items: { title: string }[] }>();
    expect(suggested.items.map((i) => i.title)).toContain(english.article);
  });

  test('X1 C9 translations are refused, in words, for a language Portico does not speak, a form field it does not have, or more menu labels than links; what is saved reads back', async () => {
    const f = await fixture(variant('api'), POLISH);
    const refused = async (method: 'POST' | 'PATCH', url: string, payload: object, path: string) => {
      const res = await call(method, url, payload);
      expect(res.statusCode, res.body).toBe(400);
      const { code, errors } = res.json<{ code: string; errors: { path: string; message: string }[] }>();
      expect(code).toBe('VALIDATION_FAILED');
      expect(errors.map((e) => e.path)).toContain(path);
      return errors.find((e) => e.path === path)?.message;
    };
    expect(await refused('PATCH', `/api/v1/portals/${f.portalId}`, { translations: { de: { title: 'Hilfe' } } }, '/body/translations/de'))
      .toBe('Portico does not speak this language: translate into English (en) or Polish (pl).');
    await refused('PATCH', `/api/v1/portals/${f.portalId}`, { translations: { pl: { menuLabels: ['a', 'b'] } } }, '/body/translations/pl/menuLabels');
    await refused('PATCH', `/api/v1/forms/${f.formId}`, { translations: { pl: { nope: { label: 'x' } } } }, '/body/translations/pl/nope');
    await refused('PATCH', `/api/v1/forms/${f.formId}`, { translations: { pl: { subject: { options: ['x'] } } } }, '/body/translations/pl/subject/options');
    await refused('POST', '/api/v1/kb/categories', { name: unique('c'), translations: { fr: { name: 'Catégorie' } } }, '/body/translations/fr');
    const portal = await call('GET', `/api/v1/portals/${f.portalId}`);
    expect(portal.json()).toMatchObject({ translations: { pl: { title: POLISH.title, consentLabel: POLISH.consentLabel, menuLabels: [POLISH.menu] } } });
    const form = await call('GET', `/api/v1/forms/${f.formId}`);
    expect(form.json()).toMatchObject({ translations: { pl: { area: { options: [POLISH.optionA, POLISH.optionB] } } } });
    // Emptied texts are dropped: the portal shows the text as written again.
    const cleared = await call('PATCH', `/api/v1/portals/${f.portalId}`, { translations: { pl: { title: '' } } });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json<{ translations: unknown }>().translations).toEqual({});
  });
});
