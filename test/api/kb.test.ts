import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';
import { cookiesOf, postPortalForm } from '../helpers/portal-forms.js';

// C8 P24: the knowledge base: categories and Markdown articles (sanitised), public on the
// portal's host, full-text search over published articles only, and the "Go to <portal>" link.

describe.each(dialects)('the knowledge base on %s', (dialect) => {
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

  async function portal() {
    const host = `${unique('kb').toLowerCase()}.example.com`;
    const p = await t.app.services.portals.create({ name: 'Acme Help', domain: host, consentText: 'ok' });
    await t.app.services.portals.update(p.id, { enabled: true });
    return { host, slug: p.slug, id: p.id };
  }
  const page = (host: string, url: string) => t.app.inject({ method: 'GET', url, headers: { host } });

  test('C8 P24 articles are Markdown made safe; published ones are public on the portal, drafts are not; the “Go to” link follows the switch', async () => {
    const category = await call('POST', '/api/v1/kb/categories', { name: unique('Printing') });
    expect(category.statusCode, category.body).toBe(201);
    const categoryId = category.json<{ id: number }>().id;
    const title = `Paper jams ${unique('t')}`;
    const article = await call('POST', '/api/v1/kb/articles', {
      categoryId, title, published: true,
      body: '# Clearing a jam\n\nOpen **tray 2** and pull gently. See [the manual](https://example.com/manual).\n\n<script>alert(1)</script><img src=x onerror=alert(2)>\n\n[bad](javascript:alert(3))',
    });
    expect(article.statusCode, article.body).toBe(201);
    const { slug, html } = article.json<{ slug: string; html: string }>();
    expect(slug).toMatch(/^paper-jams-/);
    expect(html).toContain('<strong>tray 2</strong>');
    expect(html).toContain('href="https://example.com/manual"');
    expect(html).not.toMatch(/script|onerror|javascript:/);
    const draft = await call('POST', '/api/v1/kb/articles', { categoryId, title: `Toner secrets ${unique('d')}`, body: 'Not yet.' });
    const draftSlug = draft.json<{ slug: string }>().slug;

    const p = await portal();
    const home = await page(p.host, `/${p.slug}/kb`);
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain(title);
    expect(home.body).not.toContain('Toner secrets');
    // Signed out, the knowledge base's navigation leads to signing in; the switch takes that away.
    expect(home.body).toContain(`href="/${p.slug}/sign-in"`);
    const read = await page(p.host, `/${p.slug}/kb/${slug}`);
    expect(read.statusCode).toBe(200);
    expect(read.body).toContain('<strong>tray 2</strong>');
    expect(read.body).not.toContain('<script>');
    expect((await page(p.host, `/${p.slug}/kb/${draftSlug}`)).statusCode).toBe(404);
    expect((await page(p.host, `/${p.slug}/kb/no-such-article`)).statusCode).toBe(404);

    await call('PATCH', `/api/v1/portals/${p.id}`, { kbPortalLink: false });
    expect((await page(p.host, `/${p.slug}/kb`)).body).not.toContain(`href="/${p.slug}/sign-in"`);
  });

  test('C8 full-text search finds published articles by any words of their title or text, the last word as a prefix, without diacritics', async () => {
    const category = await call('POST', '/api/v1/kb/categories', { name: unique('Billing') });
    const categoryId = category.json<{ id: number }>().id;
    const word = `gęśla${unique('w').replace(/[^a-z0-9]/g, '')}`;
    await call('POST', '/api/v1/kb/articles', { categoryId, title: 'Changing your invoice address', body: `Go to *Settings*, then **Billing**. Keyword: ${word}.`, published: true });
    await call('POST', '/api/v1/kb/articles', { categoryId, title: 'Draft about invoices', body: `Also ${word}.`, published: false });
    const p = await portal();
    const plain = word.normalize('NFKD').replace(/\p{M}+/gu, '');
    for (const q of [word, plain.slice(0, 8), 'invoice addr', 'settings billing']) {
      const res = await page(p.host, `/${p.slug}/kb?q=${encodeURIComponent(q)}`);
      expect(res.statusCode, q).toBe(200);
      expect(res.body, q).toContain('Changing your invoice address');
      expect(res.body, q).not.toContain('Draft about invoices');
    }
    const none = await page(p.host, `/${p.slug}/kb?q=${encodeURIComponent('nothing matches this')}`);
    expect(none.body).toContain('No article matches');
    // Staff search sees drafts too.
    const staff = await call('GET', `/api/v1/kb/articles?q=${encodeURIComponent(word)}`);
    expect(staff.json<{ items: { title: string }[] }>().items.map((i) => i.title).sort()).toEqual(['Changing your invoice address', 'Draft about invoices']);
  });

  test('C8 the suggestions a new ticket’s subject asks for are published articles only, at most five; every page runs the theme’s one script, from this origin only', async () => {
    const category = await call('POST', '/api/v1/kb/categories', { name: unique('Suggest') });
    const categoryId = category.json<{ id: number }>().id;
    const word = `wifi${unique('s').replace(/[^a-z0-9]/g, '')}`;
    for (let i = 0; i < 7; i++) await call('POST', '/api/v1/kb/articles', { categoryId, title: `Fixing ${word} number ${i}`, body: 'Restart the router.', published: i !== 0 });
    const p = await portal();
    const res = await page(p.host, `/${p.slug}/kb-suggest?q=${encodeURIComponent(word.slice(0, 10))}`);
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: { title: string; url: string }[] }>().items;
    expect(items).toHaveLength(5);
    expect(items.map((i) => i.title)).not.toContain(`Fixing ${word} number 0`);
    expect(items[0]?.url).toMatch(new RegExp(`^/${p.slug}/kb/fixing-`));
    // A subject as people write it: any of its words may match; the best matches come first.
    const sentence = await page(p.host, `/${p.slug}/kb-suggest?q=${encodeURIComponent(`why does my ${word} keep failing all day`)}`);
    expect(sentence.json<{ items: unknown[] }>().items).toHaveLength(5);
    expect((await page(p.host, `/${p.slug}/kb-suggest?q=ab`)).json()).toEqual({ items: [] });
    // The theme's one script, from this origin only (its old name still answers); never inline code.
    for (const name of ['portal.js', 'suggest.js']) expect((await page(p.host, `/assets/${name}`)).headers['content-type']).toContain('text/javascript');
    for (const url of [`/${p.slug}/kb`, `/${p.slug}/sign-in`]) {
      const csp = String((await page(p.host, url)).headers['content-security-policy']);
      expect(csp).toContain("script-src 'self';");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    }
  });

  test('C8 a category with articles cannot be deleted; a taken slug is a 409; agents without the settings permission cannot write', async () => {
    const category = await call('POST', '/api/v1/kb/categories', { name: unique('C') });
    const categoryId = category.json<{ id: number }>().id;
    const slug = `same-${unique('s').toLowerCase().replace(/[^a-z0-9]/g, '')}`;
    expect((await call('POST', '/api/v1/kb/articles', { categoryId, title: 'One', slug, body: 'x' })).statusCode).toBe(201);
    expect((await call('POST', '/api/v1/kb/articles', { categoryId, title: 'Two', slug, body: 'y' })).statusCode).toBe(409);
    expect((await call('DELETE', `/api/v1/kb/categories/${categoryId}`)).statusCode).toBe(409);
    const agent = await createStaff(t);
    expect((await call('POST', '/api/v1/kb/articles', { categoryId, title: 'Three', body: 'z' }, agent)).statusCode).toBe(403);
    expect((await call('GET', '/api/v1/kb/articles', undefined, agent)).statusCode).toBe(200);
  });
  test('C8 P24 the portal home lists the articles members read most; anonymous readings do not count; the knowledge base leaves the navigation and the home page when switched off', async () => {
    const category = (await call('POST', '/api/v1/kb/categories', { name: unique('Popular') })).json<{ id: number }>().id;
    const article = async (title: string) => (await call('POST', '/api/v1/kb/articles', { categoryId: category, title, published: true, body: 'Text.' })).json<{ slug: string }>().slug;
    const often = `Read often ${unique('a')}`;
    const once = `Read once ${unique('b')}`;
    const [oftenSlug, onceSlug] = [await article(often), await article(once)];
    const p = await portal();
    const contact = await t.app.services.contacts.create({ email: `${unique('reader')}@example.com` });
    await t.app.services.portals.createMember(p.id, contact.id, 'correct horse battery staple');
    const ip = '203.0.113.40';
    const signIn = await postPortalForm(t.app, p.host, `/${p.slug}/sign-in`, `/${p.slug}/sign-in`, { email: contact.email, password: 'correct horse battery staple' }, { ip });
    const cookie = `portico_member=${cookiesOf(signIn).portico_member ?? ''}`;
    const asMember = (url: string) => t.app.inject({ method: 'GET', url, remoteAddress: ip, headers: { host: p.host, cookie } });
    const views = async (slug: string) => (await t.app.deps.db.selectFrom('kb_articles').select('views').where('slug', '=', slug).executeTakeFirstOrThrow()).views;

    // Many anonymous readings of one, two members' readings of the other.
    for (let i = 0; i < 5; i++) expect((await page(p.host, `/${p.slug}/kb/${onceSlug}`)).statusCode).toBe(200);
    expect(await views(onceSlug)).toBe(0);
    await asMember(`/${p.slug}/kb/${oftenSlug}`);
    await asMember(`/${p.slug}/kb/${oftenSlug}`);
    await asMember(`/${p.slug}/kb/${onceSlug}`);
    expect([await views(oftenSlug), await views(onceSlug)]).toEqual([2, 1]);
    const home = (await asMember(`/${p.slug}`)).body;
    expect(home).toContain('Popular articles');
    expect(home.indexOf(often)).toBeGreaterThan(-1);
    expect(home.indexOf(often)).toBeLessThan(home.indexOf(once));
    expect(home).toContain(`href="/${p.slug}/kb"`);

    await call('PATCH', `/api/v1/portals/${p.id}`, { kbInMenu: false });
    const without = (await asMember(`/${p.slug}`)).body;
    expect(without).not.toContain('Popular articles');
    expect(without).not.toContain(`href="/${p.slug}/kb"`);
    // The knowledge base itself stays public, its own page linking to itself.
    expect((await page(p.host, `/${p.slug}/kb`)).statusCode).toBe(200);
  });
});
