import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PREVIEW_LINK_MS, PREVIEW_SESSION_MS } from '../../src/modules/portal/previews.service.js';
import { cookiesOf, csrfOf } from '../helpers/portal-forms.js';
import { createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

const root = join(import.meta.dirname, '..', '..');

/** A 1×1 PNG, real bytes. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

function multipart(filename: string, content: Buffer, contentType: string) {
  const boundary = `----portico-${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`, 'utf8');
  return { payload: Buffer.concat([head, content, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe.each(dialects)('the staff app and the API it needs, on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let agent: TestStaff;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { role: 'admin' });
    agent = await createStaff(t, { role: 'agent' });
  });
  afterAll(async () => {
    await t.close();
  });

  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, who: TestStaff = admin) =>
    t.app.inject({ method, url, headers: who.auth, ...(body === undefined ? {} : { payload: body as object }) });

  async function portalWithMember() {
    const s = t.app.services;
    const host = `${unique('help').toLowerCase()}.example.com`;
    const email = `${unique('cora')}@example.com`;
    const contact = await s.contacts.create({ email, firstName: 'Cora', lastName: 'Customer' });
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Waiting on us', state: 'open' }, { name: 'Solved', state: 'closed' }] });
    const portal = await s.portals.create({ name: 'Acme Help', domain: host, consentText: 'ok' });
    await s.portals.update(portal.id, { enabled: true });
    const member = await s.portals.createMember(portal.id, contact.id, 'customer password 123');
    const ticket = await s.tickets.create({ subject: `Printer jams ${unique('t')}`, pipelineId: pipeline.id, contactIds: [contact.id] }, null);
    return { host, slug: portal.slug, portalId: portal.id, memberId: member.id, contactId: contact.id, email, ticketId: ticket.id };
  }

  test('C5 the app is served at /app: the page with a strict policy, assets cached for good, any path under /app the same page', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/app/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    const deep = await t.app.inject({ method: 'GET', url: '/app/portals/1?tab=templates' });
    expect(deep.body).toBe(page.body);
    const script = /src="\/app\/assets\/([^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await t.app.inject({ method: 'GET', url: `/app/assets/${script}` });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
    for (const bad of ['/app/assets/nope.js', '/app/assets/..%2Findex.html', '/app/assets/.hidden']) {
      const res = await t.app.inject({ method: 'GET', url: bad });
      expect(res.statusCode, bad).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, bad).toBeLessThan(500);
    }
    // A browser at the root is sent to the app; an API client still gets the map.
    const home = await t.app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(home.statusCode).toBe(302);
    expect(home.headers.location).toBe('/app/');
    expect((await t.app.inject({ method: 'GET', url: '/' })).json().app).toBe('/app/');
  });

  test('P6 the staff app never answers on a portal host', async () => {
    const f = await portalWithMember();
    for (const url of ['/app/', '/app/inbox', '/app/portal.css']) {
      expect((await t.app.inject({ method: 'GET', url, headers: { host: f.host } })).statusCode, url).toBe(404);
    }
  });

  test('C5 the typed client’s types are those of the API as it is now (a changed schema breaks the build)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-types-'));
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(t.app.swagger()));
    execFileSync(process.execPath, [join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), join(dir, 'openapi.json'), '-o', join(dir, 'schema.d.ts'), '--silent'], { stdio: 'pipe' });
    const committed = readFileSync(join(root, 'web', 'src', 'api', 'schema.d.ts'), 'utf8');
    expect(readFileSync(join(dir, 'schema.d.ts'), 'utf8') === committed, 'web/src/api/schema.d.ts is stale: run npm run build and commit it').toBe(true);
  });

  test('C5 threads are searched by subject, any case, with LIKE wildcards taken literally, and name their contact', async () => {
    const inbox = (await api('POST', '/api/v1/inboxes', { name: unique('Inbox') })).json();
    const word = unique('Zebra');
    const contact = await t.app.services.contacts.create({ email: `${unique('zed')}@example.com`, firstName: 'Zed', lastName: 'Zebra' });
    await api('POST', '/api/v1/threads', { inboxId: inbox.id, subject: `The ${word} printer`, contactId: contact.id });
    await api('POST', '/api/v1/threads', { inboxId: inbox.id, subject: '100% off coupon' });
    await api('POST', '/api/v1/threads', { inboxId: inbox.id, subject: '100 copies' });
    const hits = (await api('GET', `/api/v1/threads?inboxId=${inbox.id}&q=${encodeURIComponent(word.toUpperCase())}`, undefined, agent)).json();
    expect(hits.items.map((x: { subject: string }) => x.subject)).toEqual([`The ${word} printer`]);
    // The inbox shows who each thread is with, from one query per page.
    expect(hits.items[0].contact).toEqual({ id: contact.id, email: contact.email, name: 'Zed Zebra' });
    const percent = (await api('GET', `/api/v1/threads?inboxId=${inbox.id}&q=${encodeURIComponent('100%')}`)).json();
    expect(percent.items.map((x: { subject: string }) => x.subject)).toEqual(['100% off coupon']);
    expect(percent.items[0].contact).toBeNull();
    expect((await api('GET', `/api/v1/threads?q=${'x'.repeat(201)}`)).statusCode).toBe(400);
  });

  test('P15 the settings count the tickets that meet filter rules right now, before they are saved; bad rules are a 422', async () => {
    const f = await portalWithMember();
    const before = (await api('GET', `/api/v1/portals/${f.portalId}`)).json();
    const all = (await api('POST', `/api/v1/portals/${f.portalId}/matching-tickets`, { filters: [] })).json();
    expect(all.matching).toBe(all.total);
    const ticket = (await api('GET', `/api/v1/tickets/${f.ticketId}`)).json();
    const one = (await api('POST', `/api/v1/portals/${f.portalId}/matching-tickets`, { filters: [{ property: 'pipelineId', operator: 'is', value: ticket.pipelineId }] })).json();
    expect(one).toEqual({ matching: 1, total: all.total });
    const bad = await api('POST', `/api/v1/portals/${f.portalId}/matching-tickets`, { filters: [{ property: 'password', operator: 'is', value: 'x' }] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('/body/filters/0/property');
    // Counting saves nothing.
    expect((await api('GET', `/api/v1/portals/${f.portalId}`)).json().filters).toEqual(before.filters);
    expect((await api('POST', `/api/v1/portals/${f.portalId}/matching-tickets`, { filters: [] }, agent)).statusCode).toBe(403);
    expect((await api('POST', '/api/v1/portals/999999/matching-tickets', { filters: [] })).statusCode).toBe(404);
  });

  test('C1 P15 the filter editor learns what it may filter on, each property by its label with the values it takes', async () => {
    const contacts = (await api('GET', '/api/v1/filter-properties/contacts', undefined, agent)).json();
    expect(contacts.items).toContainEqual({ property: 'email', label: 'Email', type: 'text' });
    expect(contacts.items).toContainEqual({ property: 'primaryCompanyId', label: 'Primary company', type: 'id', choices: 'companies' });
    expect(contacts.operators).toContain('is_any_of');
    const key = `tier_${Math.floor(Math.random() * 1e9)}`;
    await t.app.services.pipelines.createProperty({ key, label: 'Tier', type: 'number' });
    const plan = `plan_${Math.floor(Math.random() * 1e9)}`;
    await t.app.services.pipelines.createProperty({ key: plan, label: 'Plan', type: 'enumeration', options: [{ value: 'gold', label: 'Gold' }, { value: 'free', label: 'Free' }] });
    const tickets = (await api('GET', '/api/v1/filter-properties/tickets', undefined, agent)).json();
    expect(tickets.items).toContainEqual({ property: 'stageId', label: 'Stage', type: 'id', choices: 'stages' });
    expect(tickets.items).toContainEqual({ property: 'ownerId', label: 'Owner', type: 'id', choices: 'staff' });
    expect(tickets.items).toContainEqual(expect.objectContaining({ property: 'priority', label: 'Priority', options: expect.arrayContaining([{ value: 'urgent', label: 'Urgent' }]) }));
    expect(tickets.items).toContainEqual({ property: `properties.${key}`, label: 'Tier', type: 'number' });
    expect(tickets.items).toContainEqual({ property: `properties.${plan}`, label: 'Plan', type: 'text', options: [{ value: 'gold', label: 'Gold' }, { value: 'free', label: 'Free' }] });
    // A value outside a property's choices is refused in words, naming the choices by label.
    const bad = await api('POST', '/api/v1/lists', { name: `Bad ${key}`, kind: 'active', filters: [{ property: 'firstName', operator: 'is' }] });
    expect(bad.json().errors[0].message).toBe('Condition 1 (First name is) needs one value.');
    const f = await portalWithMember();
    const offList = await api('POST', `/api/v1/portals/${f.portalId}/matching-tickets`, { filters: [{ property: 'priority', operator: 'is', value: 'Support' }, { property: 'pipelineId', operator: 'is', value: 'Support' }] });
    expect(offList.statusCode).toBe(422);
    expect(offList.json().errors.map((e: { message: string }) => e.message)).toEqual([
      'Condition 1 (Priority is) needs one of: Low, Medium, High, Urgent.',
      'Condition 2 (Pipeline is) needs a pipeline chosen from the list.',
    ]);
    expect((await api('GET', '/api/v1/filter-properties/passwords')).statusCode).toBe(400);
  });

  test('P23 the navigation menu is saved as checked and shown in the portal’s header, escaped', async () => {
    const f = await portalWithMember();
    const bad = await api('PATCH', `/api/v1/portals/${f.portalId}`, { menu: [{ label: 'Bad', url: 'javascript:alert(1)' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toMatch(/^\/body\/menu\/0\/url/);
    const ok = await api('PATCH', `/api/v1/portals/${f.portalId}`, { menu: [{ label: 'Status <page>', url: 'https://status.example.com' }, { label: 'Help', url: `/${f.slug}/kb` }] });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().menu).toHaveLength(2);
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host } });
    expect(page.body).toContain('<nav class="menu"');
    expect(page.body).toContain('<a href="https://status.example.com">Status &lt;page&gt;</a>');
    expect(page.body).toContain(`<a href="/${f.slug}/kb">Help</a>`);
  });

  test('P28 P30 staff view the portal as a member through a one-time link: read-only, under a banner, recorded; no staff cookie is needed there', async () => {
    const f = await portalWithMember();
    // Only with the portal settings permission.
    expect((await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: f.memberId }, agent)).statusCode).toBe(403);
    const other = await portalWithMember();
    expect((await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: other.memberId })).statusCode).toBe(404);

    const created = await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: f.memberId });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const url = new URL(created.json().url as string);
    expect(url.hostname).toBe(f.host);
    expect(url.pathname).toMatch(new RegExp(`^/${f.slug}/preview/[A-Za-z0-9_-]{40,}$`));

    // The link answers only on the portal's host, and only once.
    expect((await t.app.inject({ method: 'GET', url: url.pathname })).statusCode).toBe(404);
    const opened = await t.app.inject({ method: 'GET', url: url.pathname, headers: { host: f.host } });
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe(`/${f.slug}`);
    const preview = cookiesOf(opened).portico_preview!;
    expect(String(opened.headers['set-cookie'])).toMatch(/portico_preview=[^;]+;.*HttpOnly/);
    expect((await t.app.inject({ method: 'GET', url: url.pathname, headers: { host: f.host } })).statusCode).toBe(404);

    const list = await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_preview=${preview}` } });
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('class="preview-banner"');
    expect(list.body).toContain('Preview: this is the portal as Cora Customer sees it.');
    expect(list.body).toContain('Printer jams');
    expect(list.body).not.toContain('Change password');
    const detail = await t.app.inject({ method: 'GET', url: `/${f.slug}/${f.ticketId}`, headers: { host: f.host, cookie: `portico_preview=${preview}` } });
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toContain('class="preview-banner"');

    // Nothing can be changed: every unsafe request is refused before it does anything.
    const counts = await rowCounts(t);
    for (const path of [`/${f.slug}/${f.ticketId}/reply`, `/${f.slug}/sign-out`, `/${f.slug}/account/password`]) {
      const res = await t.app.inject({ method: 'POST', url: path, headers: { host: f.host, cookie: `portico_preview=${preview}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'csrf=&body=hello' });
      expect(res.statusCode, path).toBe(403);
      expect(res.body, path).toContain('This is a preview: nothing can be changed here.');
    }
    expect(await rowCounts(t)).toEqual(counts);

    // Recorded: who looked, as whom, when opened.
    const records = (await api('GET', `/api/v1/portals/${f.portalId}/previews`)).json().items;
    expect(records[0]).toMatchObject({ memberId: f.memberId, contactEmail: f.email, staffUserId: admin.id });
    expect(records[0].openedAt).not.toBeNull();

    // The preview ends on the banner's link, on the server too: the same cookie is nobody after.
    const ended = await t.app.inject({ method: 'GET', url: `/${f.slug}/preview-end`, headers: { host: f.host, cookie: `portico_preview=${preview}` } });
    expect(String(ended.headers['set-cookie'])).toMatch(/portico_preview=;/);
    expect((await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_preview=${preview}` } })).statusCode).toBe(303);

    // And by itself after 30 minutes.
    const next = new URL((await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: f.memberId })).json().url as string);
    const second = cookiesOf(await t.app.inject({ method: 'GET', url: next.pathname, headers: { host: f.host } })).portico_preview!;
    expect((await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_preview=${second}` } })).statusCode).toBe(200);
    t.clock.advance(PREVIEW_SESSION_MS);
    const late = await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_preview=${second}` } });
    expect(late.statusCode).toBe(303);
    expect(late.headers.location).toMatch(new RegExp(`^/${f.slug}/sign-in`));
  });

  test('P30 a preview link expires unused after two minutes; a disabled member or portal cannot be previewed', async () => {
    const f = await portalWithMember();
    const url = new URL((await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: f.memberId })).json().url as string);
    t.clock.advance(PREVIEW_LINK_MS);
    expect((await t.app.inject({ method: 'GET', url: url.pathname, headers: { host: f.host } })).statusCode).toBe(404);

    // Forged, malformed, too long and another portal's links are nobody's, and set no cookie.
    const other = await portalWithMember();
    const theirs = new URL((await api('POST', `/api/v1/portals/${other.portalId}/previews`, { memberId: other.memberId })).json().url as string);
    const token = theirs.pathname.split('/').pop()!;
    for (const bad of [token, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, `..%2F${'%00'.repeat(3)}`, 'a'.repeat(101)]) {
      const res = await t.app.inject({ method: 'GET', url: `/${f.slug}/preview/${bad}`, headers: { host: f.host } });
      expect(res.statusCode, bad).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, bad).toBeLessThan(500);
      expect(res.headers['set-cookie'] ?? '', bad).not.toContain('portico_preview=');
    }
    // ... and another portal's link still works on its own host.
    expect((await t.app.inject({ method: 'GET', url: theirs.pathname, headers: { host: other.host } })).statusCode).toBe(303);

    const again = new URL((await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: f.memberId })).json().url as string);
    const preview = cookiesOf(await t.app.inject({ method: 'GET', url: again.pathname, headers: { host: f.host } })).portico_preview!;
    await t.app.services.portals.updateMember(f.portalId, f.memberId, { disabled: true });
    expect((await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_preview=${preview}` } })).statusCode).toBe(303);

    await t.app.services.portals.update(f.portalId, { enabled: false });
    const off = await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: f.memberId });
    expect(off.statusCode).toBe(422);
    expect(off.json().code).toBe('PORTAL_NOT_ENABLED');
    expect((await api('POST', `/api/v1/portals/${f.portalId}/previews`, { memberId: 'x' })).statusCode).toBe(400);
  });

  test('P30 a member’s own session is untouched by a preview in another browser, and a forged preview cookie is nobody', async () => {
    const f = await portalWithMember();
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host } });
    const res = await t.app.inject({
      method: 'POST', url: `/${f.slug}/sign-in`,
      headers: { host: f.host, cookie: `portico_form=${cookiesOf(page).portico_form ?? ''}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: f.email, password: 'customer password 123', csrf: csrfOf(page.body), next: `/${f.slug}` }).toString(),
    });
    const member = cookiesOf(res).portico_member!;
    const forged = await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_preview=${'A'.repeat(43)}; portico_member=${member}` } });
    expect(forged.statusCode).toBe(200);
    expect(forged.body).not.toContain('preview-banner');
    expect((await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_preview=${'A'.repeat(43)}` } })).statusCode).toBe(303);
  });

  test('P22 a logo is uploaded (a picture by its bytes, at most 1 MB), shown on the portal at an address that never changes, kept by new branding and by the file sweep, and removed', async () => {
    const f = await portalWithMember();
    const send = (file: { name: string; body: Buffer; type: string }, who: TestStaff = admin) => {
      const body = multipart(file.name, file.body, file.type);
      return t.app.inject({ method: 'POST', url: `/api/v1/portals/${f.portalId}/logo`, headers: { ...who.auth, ...body.headers }, payload: body.payload });
    };
    expect((await send({ name: 'logo.png', body: PNG, type: 'image/png' }, agent)).statusCode).toBe(403);
    const asJson = await t.app.inject({ method: 'POST', url: `/api/v1/portals/${f.portalId}/logo`, headers: admin.auth, payload: {} });
    expect(asJson.statusCode).toBe(415);
    expect(asJson.json().detail ?? asJson.json().title).toContain('multipart/form-data');
    const svg = await send({ name: 'logo.png', body: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), type: 'image/png' });
    expect(svg.statusCode).toBe(422);
    expect(svg.json().code).toBe('LOGO_NOT_AN_IMAGE');
    expect((await send({ name: 'big.png', body: Buffer.concat([PNG, Buffer.alloc(1024 * 1024)]), type: 'image/png' })).statusCode).toBe(413);
    expect((await api('GET', `/api/v1/portals/${f.portalId}`)).json().branding.logoFile).toBeUndefined();

    const uploaded = await send({ name: 'logo.txt', body: PNG, type: 'text/plain' });
    expect(uploaded.statusCode).toBe(200);
    const sha = uploaded.json().branding.logoFile.sha256 as string;
    expect(uploaded.json().branding.logoFile.contentType).toBe('image/png');
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host } });
    expect(page.body).toContain(`<img src="/assets/logo/${sha}" alt="Acme Help">`);
    const asset = await t.app.inject({ method: 'GET', url: `/assets/logo/${sha}`, headers: { host: f.host } });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toBe('image/png');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.rawPayload.equals(PNG)).toBe(true);
    expect((await t.app.inject({ method: 'GET', url: `/assets/logo/${'0'.repeat(64)}`, headers: { host: f.host } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/assets/logo/${sha}` })).statusCode).toBe(404);
    expect((await api('GET', `/api/v1/portals/${f.portalId}/logo`)).headers['content-type']).toBe('image/png');

    // New colours keep the logo; a week later the file sweep keeps it too.
    const recoloured = await api('PATCH', `/api/v1/portals/${f.portalId}`, { branding: { primaryColor: '#112233' } });
    expect(recoloured.json().branding.logoFile.sha256).toBe(sha);
    // The sweep compares file times with the clock: a week past the files' real times, it
    // removes the refused uploads (orphans) and keeps the logo.
    t.clock.set(Date.now() + 7 * 24 * 3600 * 1000);
    expect(await t.app.services.conversations.sweepOrphanFiles(0)).toBeGreaterThan(0);
    expect((await t.app.inject({ method: 'GET', url: `/assets/logo/${sha}`, headers: { host: f.host } })).statusCode).toBe(200);

    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/portals/${f.portalId}/logo`, headers: admin.auth });
    expect(removed.json().branding).toEqual({ primaryColor: '#112233' });
    expect((await t.app.inject({ method: 'GET', url: `/assets/logo/${sha}`, headers: { host: f.host } })).statusCode).toBe(404);
  });

  test('C4 staff change their own password: the current one checked, the policy applied, every session of theirs ended, this client signed in afresh', async () => {
    const user = await createStaff(t, { role: 'agent' });
    const signIn = async (password = user.password) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: user.email, password } });
      return { status: res.statusCode, cookie: `portico_staff=${cookiesOf(res).portico_staff ?? ''}`, csrf: res.json<{ csrfToken?: string }>().csrfToken ?? '' };
    };
    const a = await signIn();
    const b = await signIn();
    const change = (body: object, who = a, csrf = who.csrf) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { cookie: who.cookie, 'x-csrf-token': csrf }, payload: body });
    const next = 'a brand new passphrase 42';
    expect((await change({ currentPassword: user.password, newPassword: next }, a, 'forged')).statusCode).toBe(403);
    const wrong = await change({ currentPassword: 'not my password at all', newPassword: next });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().errors[0].path).toBe('/body/currentPassword');
    const breached = await change({ currentPassword: user.password, newPassword: '1qaz2wsx3edc' });
    expect(breached.statusCode).toBe(422);
    expect(breached.json().errors[0].path).toBe('/body/newPassword');
    expect((await change({ currentPassword: user.password, newPassword: 'short' })).statusCode).toBe(400);
    // Nothing changed so far: both sessions work, the old password too.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: b.cookie } })).statusCode).toBe(200);

    const done = await change({ currentPassword: user.password, newPassword: next });
    expect(done.statusCode).toBe(200);
    const fresh = `portico_staff=${cookiesOf(done).portico_staff ?? ''}`;
    expect(fresh).not.toBe(a.cookie);
    expect(done.json().csrfToken).not.toBe(a.csrf);
    for (const old of [a.cookie, b.cookie]) expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: old } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: fresh } })).statusCode).toBe(200);
    expect((await signIn()).status).toBe(401);
    expect((await signIn(next)).status).toBe(200);
    // An API token keeps working and gets no session.
    const byToken = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: user.auth, payload: { currentPassword: next, newPassword: 'yet another passphrase 7' } });
    expect(byToken.statusCode).toBe(200);
    expect(byToken.json().csrfToken).toBeNull();
    expect(byToken.headers['set-cookie']).toBeUndefined();
  });

  test('C4 wrong current passwords count towards the lockout, like sign-in failures', async () => {
    const user = await createStaff(t, { role: 'agent' });
    for (let i = 0; i < 10; i++) {
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { ...user.auth, 'x-forwarded-for': `10.77.0.${i}` }, remoteAddress: `10.77.0.${i}`, payload: { currentPassword: `wrong guess ${i}`, newPassword: 'a brand new passphrase 42' } })).statusCode).toBe(422);
    }
    // Locked now (past the minute's limit on attempts, the lock still holds): even the right
    // password is refused, here and at sign-in.
    t.clock.advance(2 * 60_000);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: user.auth, remoteAddress: '10.77.1.1', payload: { currentPassword: user.password, newPassword: 'a brand new passphrase 42' } })).statusCode).toBe(422);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', remoteAddress: '10.77.1.2', payload: { email: user.email, password: user.password } })).statusCode).toBe(401);
  });
});
