import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, csrfOf } from '../helpers/portal-forms.js';

interface Fixture {
  host: string;
  slug: string;
  portalId: number;
  email: string;
  password: string;
}



describe.each(dialects)('portal pages on %s', (dialect) => {
  let t: TestApp;
  const PASSWORD = 'customer password 123';

  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  async function portal(options: { scope?: 'contact' | 'company'; showCustomStages?: boolean; idle?: number } = {}): Promise<Fixture & { contactId: number; companyId: number; pipelineId: number }> {
    const s = t.app.services;
    const host = `${unique('support').toLowerCase()}.example.com`;
    const company = await s.companies.create({ name: unique('Co') });
    const email = `${unique('customer')}@example.com`;
    const contact = await s.contacts.create({ email, firstName: 'Cora', lastName: 'Customer', primaryCompanyId: company.id });
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Waiting on us', state: 'open' }, { name: 'Solved', state: 'closed' }] });
    const p = await s.portals.create({ name: 'Acme Help', title: 'Acme · your tickets', domain: host, consentText: 'ok', scope: options.scope ?? 'contact', showCustomStages: options.showCustomStages ?? false, idleTimeoutMinutes: options.idle ?? 30 });
    await s.portals.update(p.id, { enabled: true });
    await s.portals.createMember(p.id, contact.id, PASSWORD);
    return { host, slug: p.slug, portalId: p.id, email, password: PASSWORD, contactId: contact.id, companyId: company.id, pipelineId: pipeline.id };
  }

  async function signIn(f: Fixture, password = f.password, ip = `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`) {
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host }, remoteAddress: ip });
    const form = cookiesOf(page).portico_form!;
    const res = await t.app.inject({
      method: 'POST', url: `/${f.slug}/sign-in`, remoteAddress: ip,
      headers: { host: f.host, cookie: `portico_form=${form}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: f.email, password, csrf: csrfOf(page.body), next: `/${f.slug}` }).toString(),
    });
    return { res, session: cookiesOf(res).portico_member };
  }

  test('P6 a portal answers only on its own host; the staff API never answers there', async () => {
    const f = await portal();
    const staff = await createStaff(t, { role: 'admin' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { ...staff.auth, host: f.host } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/openapi.json', headers: { host: f.host } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in` })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/healthz', headers: { host: f.host } })).statusCode).toBe(200);
    const home = await t.app.inject({ method: 'GET', url: '/', headers: { host: `${f.host}:3000` } });
    expect(home.statusCode).toBe(302);
    expect(home.headers.location).toBe(`/${f.slug}`);
    const wrongSlug = await t.app.inject({ method: 'GET', url: '/other/sign-in', headers: { host: f.host } });
    expect(wrongSlug.statusCode).toBe(404);
    expect(wrongSlug.headers['content-type']).toMatch(/^text\/html/);
    expect(wrongSlug.body).toContain('Page not found');
  });

  test('P26 a disabled portal shows a plain "not available" page', async () => {
    const f = await portal();
    await t.app.services.portals.update(f.portalId, { enabled: false });
    const res = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host } });
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('This support site is not available.');
    expect(res.body).not.toContain('<form');
  });

  test('P8 P38 P5 a member signs in with a new session id, sees the tickets page titled by the portal, and signs out on the server', async () => {
    const f = await portal();
    const first = await signIn(f);
    expect(first.res.statusCode).toBe(303);
    expect(first.res.headers.location).toBe(`/${f.slug}`);
    expect(String(first.res.headers['set-cookie'])).toMatch(/portico_member=[^;]+; .*HttpOnly/);
    expect(String(first.res.headers['set-cookie'])).toMatch(/SameSite=Lax/);
    const second = await signIn(f);
    expect(second.session).not.toBe(first.session);

    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_member=${first.session}` } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<title>Acme · your tickets</title>');
    expect(page.body).toContain('Cora Customer');

    const out = await t.app.inject({
      method: 'POST', url: `/${f.slug}/sign-out`,
      headers: { host: f.host, cookie: `portico_member=${first.session}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=${encodeURIComponent(csrfOf(page.body))}`,
    });
    expect(out.statusCode).toBe(303);
    const after = await t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_member=${first.session}` } });
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe(`/${f.slug}/sign-in?next=${encodeURIComponent(`/${f.slug}`)}`);
  });

  test('P8 forms need their CSRF token; a wrong password and an unknown email read the same', async () => {
    const f = await portal();
    const noToken = await t.app.inject({ method: 'POST', url: `/${f.slug}/sign-in`, headers: { host: f.host, 'content-type': 'application/x-www-form-urlencoded' }, payload: `email=${f.email}&password=${f.password}&csrf=x` });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.headers['content-type']).toMatch(/^text\/html/);
    expect(noToken.headers['set-cookie']).toBeUndefined();
    const wrong = await signIn(f, 'not the password');
    const unknown = await signIn({ ...f, email: `${unique('nobody')}@example.com` });
    expect(wrong.res.statusCode).toBe(401);
    expect(unknown.res.statusCode).toBe(401);
    expect(wrong.res.body).toContain('The email or password is wrong.');
    expect(wrong.res.body.replace(/value="[^"]*"/g, '')).toBe(unknown.res.body.replace(/value="[^"]*"/g, ''));
    expect(wrong.session).toBeUndefined();
    const { session } = await signIn(f);
    const signOutForged = await t.app.inject({ method: 'POST', url: `/${f.slug}/sign-out`, headers: { host: f.host, cookie: `portico_member=${session}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'csrf=forged' });
    expect(signOutForged.statusCode).toBe(403);
  });

  test('P8 sign-in is rate limited per account and never redirects off the portal', async () => {
    const f = await portal();
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await signIn(f, 'wrong password', '192.0.2.99')).res.statusCode);
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes[10]).toBe(429);
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in?next=${encodeURIComponent('//evil.example/x')}`, headers: { host: f.host } });
    expect(page.body).toContain(`name="next" value="/${f.slug}"`);
  });

  test('P8 X1 a link back to any page, in any script, survives sign-in and the language switch: encoded, never a failed answer', async () => {
    const f = await portal();
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/sign-in`, headers: { host: f.host } });
    const form = cookiesOf(page).portico_form!;
    const before = Number((await t.app.deps.db.selectFrom('member_sessions').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);
    const post = (url: string, fields: Record<string, string>) => t.app.inject({
      method: 'POST', url, headers: { host: f.host, cookie: `portico_form=${form}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...fields, csrf: csrfOf(page.body) }).toString(),
    });
    const signedIn = await post(`/${f.slug}/sign-in`, { email: f.email, password: f.password, next: `/${f.slug}/日本?q=żółw` });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe(`/${f.slug}/${encodeURIComponent('日本')}?q=${encodeURIComponent('żółw')}`);
    expect(cookiesOf(signedIn).portico_member).toBeDefined();
    const after = Number((await t.app.deps.db.selectFrom('member_sessions').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);
    expect(after).toBe(before + 1);
    const switched = await post(`/${f.slug}/language`, { language: 'en', next: `/${f.slug}/日本` });
    expect(switched.statusCode).toBe(303);
    expect(switched.headers.location).toBe(`/${f.slug}/${encodeURIComponent('日本')}`);
    // Dot segments are resolved as a browser would, and whatever leaves the portal goes home.
    for (const next of [`/${f.slug}/../app/`, `/${f.slug}/%2e%2e/api/v1/contacts`, '/other', `/${f.slug}evil`, 'https://evil.example/', `/${f.slug}/\\evil`]) {
      expect((await post(`/${f.slug}/language`, { language: 'en', next })).headers.location).toBe(`/${f.slug}`);
    }
  });

  test('P39 a member is signed out after the portal’s idle timeout', async () => {
    const f = await portal({ idle: 10 });
    const { session } = await signIn(f);
    const get = () => t.app.inject({ method: 'GET', url: `/${f.slug}`, headers: { host: f.host, cookie: `portico_member=${session}` } });
    t.clock.advance(9 * 60_000);
    expect((await get()).statusCode).toBe(200);
    t.clock.advance(9 * 60_000);
    expect((await get()).statusCode).toBe(200);
    t.clock.advance(10 * 60_000 + 1);
    expect((await get()).statusCode).toBe(303);
  });

  test('P39 P38 expired member sessions are purged: idle past the portal’s timeout, or past their absolute lifetime', async () => {
    const f = await portal({ idle: 10 });
    const { session } = await signIn(f);
    const count = async () => (await t.app.deps.db.selectFrom('member_sessions').select('id_hash').where('portal_id', '=', f.portalId).execute()).length;
    expect(session).toBeDefined();
    expect(await count()).toBe(1);
    t.clock.advance(9 * 60_000);
    await t.app.services.memberAuth.purgeExpiredSessions();
    expect(await count()).toBe(1);
    t.clock.advance(2 * 60_000);
    await t.app.services.memberAuth.purgeExpiredSessions();
    expect(await count()).toBe(0);
  });

  test('P31 P32 P33 P19 the list shows ID, subject, dates and status; custom stages on request; the View menu in company scope', async () => {
    const f = await portal({ scope: 'company', showCustomStages: true });
    const s = t.app.services;
    const colleague = await s.contacts.create({ email: `${unique('colleague')}@example.com`, primaryCompanyId: f.companyId });
    const own = await s.tickets.create({ subject: 'Printer <script>alert(1)</script> on fire', pipelineId: f.pipelineId, contactIds: [f.contactId] }, null);
    const theirs = await s.tickets.create({ subject: 'Colleague ticket', pipelineId: f.pipelineId, contactIds: [colleague.id] }, null);
    const { session } = await signIn(f);
    const list = async (query = '') => (await t.app.inject({ method: 'GET', url: `/${f.slug}/tickets${query}`, headers: { host: f.host, cookie: `portico_member=${session}` } })).body;
    const org = await list();
    for (const column of ['ID', 'Subject', 'Created', 'Last activity', 'Status']) expect(org).toContain(`<th scope="col">${column}</th>`);
    expect(org).toContain('Printer &lt;script&gt;alert(1)&lt;/script&gt; on fire');
    expect(org).not.toContain('<script>');
    expect(org).toContain('Colleague ticket');
    expect(org).toContain('Waiting on us');
    expect(org).toContain('Organization tickets');
    expect(org).toContain(`href="/${f.slug}/tickets" aria-current="page"`);
    const mine = await list('?view=mine');
    expect(mine).toContain(`<td>${own.id}</td>`);
    expect(mine).not.toContain(`<td>${theirs.id}</td>`);
    expect((await t.app.inject({ method: 'GET', url: `/${f.slug}/tickets?view=everyone`, headers: { host: f.host, cookie: `portico_member=${session}` } })).statusCode).toBe(400);
    const nul = await t.app.inject({ method: 'GET', url: `/${f.slug}/tickets?q=%00`, headers: { host: f.host, cookie: `portico_member=${session}` } });
    expect(nul.statusCode).toBe(400);
    expect(nul.headers['content-type']).toMatch(/^text\/html/); // the portal's own error page, not problem JSON
  });

  test('P15 P17 P18 a signed-in member’s next page follows a changed filter rule and a changed primary company', async () => {
    const f = await portal({ scope: 'company' });
    const s = t.app.services;
    const colleague = await s.contacts.create({ email: `${unique('colleague')}@example.com`, primaryCompanyId: f.companyId });
    const phoned = await s.tickets.create({ subject: 'Phoned in', pipelineId: f.pipelineId, contactIds: [f.contactId], source: 'phone' }, null);
    const theirs = await s.tickets.create({ subject: 'Colleague ticket', pipelineId: f.pipelineId, contactIds: [colleague.id] }, null);
    const { session } = await signIn(f);
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { host: f.host, cookie: `portico_member=${session}` } });
    const listed = async () => [...(await get(`/${f.slug}/tickets`)).body.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(await listed()).toEqual(expect.arrayContaining([phoned.id, theirs.id]));
    await s.portals.update(f.portalId, { filters: [{ property: 'source', operator: 'is_not', value: 'phone' }] });
    expect(await listed()).not.toContain(phoned.id);
    expect((await get(`/${f.slug}/${phoned.id}`)).statusCode).toBe(404);
    const elsewhere = await s.companies.create({ name: unique('Elsewhere') });
    await s.contacts.update(f.contactId, { primaryCompanyId: elsewhere.id });
    expect(await listed()).not.toContain(theirs.id);
    expect((await get(`/${f.slug}/${theirs.id}`)).statusCode).toBe(404);
  });

  test('P34 P16 P36 P17 a ticket shows its newest thread only, customer and staff messages with attachments, never an internal comment; others answer 404', async () => {
    const f = await portal();
    const s = t.app.services;
    const staff = await createStaff(t);
    const ticket = await s.tickets.create({ subject: 'Broken export', pipelineId: f.pipelineId, contactIds: [f.contactId] }, null);
    const inbox = await s.inboxes.create(unique('Inbox'));
    const older = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ticket.id, subject: 'first' }, { type: 'system' });
    await s.conversations.addMessage({ threadId: older.id, kind: 'message', author: { type: 'customer', contactId: f.contactId }, bodyText: 'an old message' });
    t.clock.advance(60_000);
    const newest = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ticket.id, subject: 'second' }, { type: 'system' });
    await s.conversations.addMessage({ threadId: newest.id, kind: 'message', author: { type: 'customer', contactId: f.contactId }, bodyText: 'The export <b>fails</b>' });
    const upload = (name: string, body: string) => s.conversations.upload(Readable.from([Buffer.from(body)]), name, 'text/html', staff.id);
    const log = await upload('export "log".html', '<script>alert(1)</script>');
    await s.conversations.addMessage({ threadId: newest.id, kind: 'message', author: { type: 'staff', staffUserId: staff.id }, bodyText: 'Here is the log', attachmentIds: [log.id] });
    const secret = await upload('secret.txt', 'internal only');
    await s.conversations.addMessage({ threadId: newest.id, kind: 'comment', author: { type: 'staff', staffUserId: staff.id }, bodyText: 'SECRET NOTE', attachmentIds: [secret.id] });

    const { session } = await signIn(f);
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { host: f.host, cookie: `portico_member=${session}` } });
    const page = await get(`/${f.slug}/${ticket.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Broken export');
    expect(page.body).toContain('The export &lt;b&gt;fails&lt;/b&gt;');
    expect(page.body).toContain('Here is the log');
    expect(page.body).not.toContain('an old message');
    expect(page.body).not.toContain('SECRET NOTE');
    expect(page.body).not.toContain('secret.txt');
    expect(page.body).toContain(`/${f.slug}/attachments/${log.id}`);

    const file = await get(`/${f.slug}/attachments/${log.id}`);
    expect(file.statusCode).toBe(200);
    expect(file.body).toBe('<script>alert(1)</script>');
    expect(file.headers['content-type']).toBe('application/octet-stream');
    expect(file.headers['content-disposition']).toMatch(/^attachment; filename="export _log_.html"/);
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    expect(file.headers['content-security-policy']).toContain('sandbox');

    expect((await get(`/${f.slug}/attachments/${secret.id}`)).statusCode).toBe(404);
    const stranger = await s.contacts.create({ email: `${unique('stranger')}@example.com` });
    const foreign = await s.tickets.create({ subject: 'Not yours', pipelineId: f.pipelineId, contactIds: [stranger.id] }, null);
    const foreignPage = await get(`/${f.slug}/${foreign.id}`);
    const missingPage = await get(`/${f.slug}/99999999`);
    expect(foreignPage.statusCode).toBe(404);
    expect(missingPage.statusCode).toBe(404);
    expect(foreignPage.body).toBe(missingPage.body);
    // An address that names no ticket is a page not found, like a ticket that is not there.
    expect((await get(`/${f.slug}/abc`)).statusCode).toBe(404);
    expect((await get(`/${f.slug}/attachments/x`)).statusCode).toBe(404);
  });

  function multipart(fields: Record<string, string>, files: { name: string; content: Buffer | string; type?: string }[]) {
    const boundary = `----portico${unique('b')}`;
    const chunks: Buffer[] = [];
    for (const [k, v] of Object.entries(fields)) chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
    for (const f of files) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="${f.name}"\r\nContent-Type: ${f.type ?? 'text/plain'}\r\n\r\n`));
      chunks.push(Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content));
      chunks.push(Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
  }

  test('P35 P27 P20 a member replies with text and files: in the thread shown, on the timelines, as the ticket’s last activity; a ticket without a thread starts one in the default inbox', async () => {
    const s = t.app.services;
    const inbox = await s.inboxes.create(unique('Portal inbox'));
    await s.inboxes.addChannel(inbox.inbox.id, { type: 'portal', name: 'Portal' });
    const f = await portal();
    await s.portals.update(f.portalId, { defaultInboxId: inbox.inbox.id });
    const ticket = await s.tickets.create({ subject: 'Phoned in', pipelineId: f.pipelineId, contactIds: [f.contactId], companyIds: [f.companyId] }, null);
    const { session } = await signIn(f);
    const headers = (contentType: string) => ({ host: f.host, cookie: `portico_member=${session}`, 'content-type': contentType });
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/${ticket.id}`, headers: { host: f.host, cookie: `portico_member=${session}` } });
    const csrf = csrfOf(page.body);
    t.clock.advance(5 * 60_000);
    const body = multipart({ csrf, body: 'Here are the logs you asked for.' }, [{ name: 'one.txt', content: 'first file' }, { name: 'two.log', content: 'second file' }]);
    const res = await t.app.inject({ method: 'POST', url: `/${f.slug}/${ticket.id}/reply`, headers: headers(body.contentType), payload: body.payload });
    expect(res.statusCode, res.body).toBe(303);
    expect(res.headers.location).toBe(`/${f.slug}/${ticket.id}`);

    const thread = await t.app.deps.db.selectFrom('threads').selectAll().where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow();
    expect(thread).toMatchObject({ inbox_id: inbox.inbox.id, contact_id: f.contactId, status: 'open' });
    expect(thread.channel_id).not.toBeNull();
    const after = await t.app.inject({ method: 'GET', url: `/${f.slug}/${ticket.id}`, headers: { host: f.host, cookie: `portico_member=${session}` } });
    expect(after.body).toContain('Here are the logs you asked for.');
    expect(after.body).toContain('one.txt');
    expect(after.body).toContain('two.log');
    const saved = await s.tickets.get(ticket.id);
    expect(saved.last_activity_at).toBe(t.clock.now());
    for (const [type, id] of [['contact', f.contactId], ['ticket', ticket.id], ['company', f.companyId]] as const) {
      const timeline = await s.timeline.page(type, id, undefined, 5);
      expect(timeline.items[0], `${type} timeline`).toMatchObject({ type: 'email', body: 'Here are the logs you asked for.' });
    }
  });

  test('P35 bad replies change nothing: no CSRF token, a foreign or closed ticket, an empty reply, too many files, a file too large', async () => {
    const s = t.app.services;
    const inbox = await s.inboxes.create(unique('Portal inbox'));
    const f = await portal();
    // Polish offered too, so the pages carry the language switch and its way back.
    await s.portals.update(f.portalId, { defaultInboxId: inbox.inbox.id, languages: ['pl'] });
    const open = await s.tickets.create({ subject: 'Open one', pipelineId: f.pipelineId, contactIds: [f.contactId] }, null);
    const { session } = await signIn(f);
    const page = await t.app.inject({ method: 'GET', url: `/${f.slug}/${open.id}`, headers: { host: f.host, cookie: `portico_member=${session}` } });
    const csrf = csrfOf(page.body);
    const stranger = await s.contacts.create({ email: `${unique('stranger')}@example.com` });
    const foreign = await s.tickets.create({ subject: 'Not yours', pipelineId: f.pipelineId, contactIds: [stranger.id] }, null);
    const stages = await s.pipelines.get(f.pipelineId);
    const closed = await s.tickets.create({ subject: 'Closed one', pipelineId: f.pipelineId, stageId: stages.stages[1]!.id, contactIds: [f.contactId] }, null);
    const counts = async () => ({
      messages: (await t.app.deps.db.selectFrom('messages').select('id').execute()).length,
      attachments: (await t.app.deps.db.selectFrom('attachments').select('id').execute()).length,
      threads: (await t.app.deps.db.selectFrom('threads').select('id').execute()).length,
    });
    const before = await counts();
    const post = (ticketId: number, fields: Record<string, string>, files: { name: string; content: string }[] = []) => {
      const body = multipart(fields, files);
      return t.app.inject({ method: 'POST', url: `/${f.slug}/${ticketId}/reply`, headers: { host: f.host, cookie: `portico_member=${session}`, 'content-type': body.contentType }, payload: body.payload });
    };
    expect((await post(open.id, { body: 'no token' }, [{ name: 'a.txt', content: 'x' }])).statusCode).toBe(403);
    expect((await post(open.id, { csrf: 'forged', body: 'forged token' })).statusCode).toBe(403);
    expect((await post(foreign.id, { csrf, body: 'not mine' })).statusCode).toBe(404);
    expect((await post(999999, { csrf, body: 'nothing there' })).statusCode).toBe(404);
    expect((await post(closed.id, { csrf, body: 'too late' })).statusCode).toBe(409);
    // An empty reply comes back on the ticket's page: the reason at the box, the switch returning to the ticket.
    const empty = await post(open.id, { csrf, body: '   ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('<h1>Open one</h1>');
    expect(empty.body).toMatch(/<p class="error" id="reply-error" role="alert">Write a message or attach a file\.<\/p>/);
    expect(empty.body).toContain(`name="next" value="/${f.slug}/${open.id}"`);
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.txt`, content: `file ${i}` }));
    expect((await post(open.id, { csrf, body: 'too many' }, many)).statusCode).toBe(413);
    const huge = await post(open.id, { csrf, body: 'too big' }, [{ name: 'big.txt', content: 'x'.repeat(t.config.attachmentLimit + 1) }]);
    expect(huge.statusCode).toBe(413);
    expect(huge.headers['content-type']).toMatch(/^text\/html/);
    // No page lives at the address a form was posted to: the error page's switch goes home.
    expect(huge.body).toContain(`name="next" value="/${f.slug}"`);
    const urlencoded = await t.app.inject({ method: 'POST', url: `/${f.slug}/${open.id}/reply`, headers: { host: f.host, cookie: `portico_member=${session}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: `csrf=${csrf}&body=hi` });
    expect(urlencoded.statusCode).toBe(415);
    expect(await counts()).toEqual(before);
    const closedPage = await t.app.inject({ method: 'GET', url: `/${f.slug}/${closed.id}`, headers: { host: f.host, cookie: `portico_member=${session}` } });
    expect(closedPage.body).toContain('This ticket is closed.');
    // The navigation marks the list as where the ticket lies, not as the page itself.
    expect(closedPage.body).toContain(`href="/${f.slug}/tickets" aria-current="true"`);
    expect(closedPage.body).not.toContain('Send reply');
  });

  test('P31 the list filters by status, searches subjects and the messages the customer can see (never an internal comment), sorts, and pages', async () => {
    const s = t.app.services;
    const f = await portal();
    const staff = await createStaff(t);
    const inbox = await s.inboxes.create(unique('Inbox'));
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      t.clock.advance(1000);
      ids.push((await s.tickets.create({ subject: `Ticket number ${i}`, pipelineId: f.pipelineId, contactIds: [f.contactId] }, null)).id);
    }
    const stages = await s.pipelines.get(f.pipelineId);
    await s.tickets.update(ids[3]!, { stageId: stages.stages[1]!.id }, null);
    const older = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ids[5]!, subject: 'x' }, { type: 'system' });
    await s.conversations.addMessage({ threadId: older.id, kind: 'message', author: { type: 'customer', contactId: f.contactId }, bodyText: 'pineapple in an old thread' });
    t.clock.advance(1000);
    const newest = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ids[5]!, subject: 'y' }, { type: 'system' });
    await s.conversations.addMessage({ threadId: newest.id, kind: 'message', author: { type: 'staff', staffUserId: staff.id }, bodyText: 'The flux capacitor needs 1.21 GW (100% sure)' });
    await s.conversations.addMessage({ threadId: newest.id, kind: 'comment', author: { type: 'staff', staffUserId: staff.id }, bodyText: 'internal-only-codeword' });

    const { session } = await signIn(f);
    const ticketIdsOn = async (query: string) => {
      const res = await t.app.inject({ method: 'GET', url: `/${f.slug}/tickets${query}`, headers: { host: f.host, cookie: `portico_member=${session}` } });
      expect(res.statusCode, query).toBe(200);
      const found = [...res.body.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
      const next = /<a href="([^"]+)" rel="next">/.exec(res.body)?.[1]?.replace(/&amp;/g, '&');
      return { found, next };
    };
    const first = await ticketIdsOn('');
    expect(first.found).toHaveLength(25);
    expect(first.found[0]).toBe(ids[5]); // newest activity first: it has messages
    const second = await ticketIdsOn(first.next!.slice(`/${f.slug}/tickets`.length));
    expect(second.next).toBeUndefined();
    expect(new Set([...first.found, ...second.found])).toEqual(new Set(ids));

    expect((await ticketIdsOn('?status=closed')).found).toEqual([ids[3]]);
    expect((await ticketIdsOn('?status=open')).found).not.toContain(ids[3]);
    expect((await ticketIdsOn('?q=number%2029')).found).toEqual([ids[29]]);
    expect((await ticketIdsOn('?q=FLUX')).found).toEqual([ids[5]]);
    expect((await ticketIdsOn('?q=100%25')).found).toEqual([ids[5]]);
    expect((await ticketIdsOn('?q=internal-only-codeword')).found).toEqual([]);
    expect((await ticketIdsOn('?q=pineapple')).found).toEqual([]);
    const oldest = await ticketIdsOn('?sort=created');
    expect(oldest.found[0]).toBe(ids[0]);
    const bad = await t.app.inject({ method: 'GET', url: `/${f.slug}/tickets?cursor=nonsense`, headers: { host: f.host, cookie: `portico_member=${session}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^text\/html/);
  });
});
