import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cookiesOf, csrfOf, postPortalForm, multipartForm } from '../helpers/portal-forms.js';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

// C7 P25 P37: support forms with fields mapped to ticket properties, connected to an inbox; the
// portal's "Submit a support ticket" link opens one; a submission is a ticket for the member's
// contact (and primary company), in the portal and the inbox at once; a mistake keeps what the
// customer typed.

const PASSWORD = 'correct horse battery staple';

describe.each(dialects)('support forms on %s', (dialect) => {
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

  async function fixture() {
    const s = t.app.services;
    const { inbox } = await s.inboxes.create(unique('Forms'));
    await s.inboxes.addChannel(inbox.id, { type: 'form', name: 'Web form' });
    const pipeline = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'New', state: 'open' }, { name: 'Done', state: 'closed' }] });
    await s.inboxes.update(inbox.id, { pipelineId: pipeline.pipeline.id });
    const form = await call('POST', '/api/v1/forms', {
      name: 'Support request', inboxId: inbox.id, fields: [
        { key: 'subject', label: 'Subject', type: 'text', required: true, maps: 'subject' },
        { key: 'details', label: 'What happened?', type: 'textarea', required: true, maps: 'description' },
        { key: 'area', label: 'Area', type: 'choice', required: true, options: ['Billing', 'Hardware'], maps: 'category' },
        { key: 'order', label: 'Order number', type: 'text', required: false, maps: null },
        { key: 'shots', label: 'Screenshots', type: 'file', required: false, maps: null },
      ],
    });
    expect(form.statusCode, form.body).toBe(201);
    const host = `${unique('form').toLowerCase()}.example.com`;
    const company = await s.companies.create({ name: unique('Co') });
    const contact = await s.contacts.create({ email: `${unique('m')}@example.com`, firstName: 'Fiona', primaryCompanyId: company.id });
    const portal = await s.portals.create({ name: 'Help', domain: host, consentText: 'ok', scope: 'company' });
    await s.portals.update(portal.id, { enabled: true });
    const patched = await call('PATCH', `/api/v1/portals/${portal.id}`, { formId: form.json<{ id: number }>().id });
    expect(patched.json()).toMatchObject({ formId: form.json<{ id: number }>().id });
    await s.portals.createMember(portal.id, contact.id, PASSWORD);
    const ip = `10.66.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const signIn = await postPortalForm(t.app, host, `/${portal.slug}/sign-in`, `/${portal.slug}/sign-in`, { email: contact.email, password: PASSWORD }, { ip });
    const cookie = `portico_member=${cookiesOf(signIn).portico_member ?? ''}`;
    return { host, slug: portal.slug, portalId: portal.id, inboxId: inbox.id, formId: form.json<{ id: number }>().id, contactId: contact.id, companyId: company.id, cookie, ip };
  }
  type Fixture = Awaited<ReturnType<typeof fixture>>;
  const page = (f: Fixture, url: string) => t.app.inject({ method: 'GET', url, headers: { host: f.host, cookie: f.cookie }, remoteAddress: f.ip });
  const submit = async (f: Fixture, fields: [string, string][], files: { field: string; name: string; type: string; content: Buffer }[] = [], csrf?: string) => {
    const token = csrf ?? csrfOf((await page(f, `/${f.slug}/new`)).body);
    const body = multipartForm([['csrf', token], ...fields], files);
    return t.app.inject({ method: 'POST', url: `/${f.slug}/new`, headers: { host: f.host, cookie: f.cookie, ...body.headers }, payload: body.payload, remoteAddress: f.ip });
  };

  test('C7 a form is refused with the field that is wrong: no subject or two, a choice without options, a file filling a property, an unknown property or inbox; agents without the settings permission cannot build one', async () => {
    const { inbox } = await t.app.services.inboxes.create(unique('F'));
    const bad = async (fields: unknown[], inboxId = inbox.id) => {
      const res = await call('POST', '/api/v1/forms', { name: 'X', inboxId, fields });
      expect(res.statusCode, res.body).toBe(400);
      return res.json<{ errors: { path: string; message: string }[] }>().errors;
    };
    const subject = { key: 'subject', label: 'Subject', type: 'text', required: true, maps: 'subject' };
    expect(await bad([{ ...subject, maps: null }])).toEqual([{ path: '/body/fields', label: 'Fields', message: 'Let exactly one field fill the subject.' }]);
    expect((await bad([subject, { ...subject, key: 'again' }])).map((e) => e.path)).toContain('/body/fields');
    expect(await bad([subject, { key: 'c', label: 'C', type: 'choice', required: false, maps: null }])).toEqual([{ path: '/body/fields/1/options', label: 'Options of fields item 2', message: 'Add the options to choose from.' }]);
    expect(await bad([subject, { key: 'f', label: 'F', type: 'file', required: false, maps: 'description' }])).toEqual([{ path: '/body/fields/1/maps', label: 'Maps of fields item 2', message: 'A file field fills no property (its files go with the message): choose none.' }]);
    expect(await bad([subject, { key: 'p', label: 'P', type: 'text', required: false, maps: 'properties.nope' }])).toEqual([{ path: '/body/fields/1/maps', label: 'Maps of fields item 2', message: 'There is no such custom ticket property: add it in the ticket settings first.' }]);
    expect(await bad([subject], 999999)).toEqual([{ path: '/body/inboxId', label: 'Inbox ID', message: 'There is no inbox 999999: choose one that exists.' }]);
    const agent = await createStaff(t);
    expect((await call('POST', '/api/v1/forms', { name: 'X', inboxId: inbox.id, fields: [subject] }, agent)).statusCode).toBe(403);
  });

  test('P25 P37 C7 the portal links to its form; a mistake shows the form again with what was typed; a good submission is a ticket for the member and their company, in the portal and the inbox, with its file', async () => {
    const f = await fixture();
    const list = await page(f, `/${f.slug}`);
    expect(list.body).toContain(`href="/${f.slug}/new"`);
    expect(list.body).toContain('Submit a support ticket');
    const form = await page(f, `/${f.slug}/new`);
    expect(form.statusCode).toBe(200);
    // The theme's one script, its own file, no inline code.
    expect(form.headers['content-security-policy']).toContain("script-src 'self'");
    expect(form.body).toContain('<script src="/assets/portal.js" defer></script>');
    for (const label of ['Subject', 'What happened?', 'Area', 'Order number', 'Screenshots']) expect(form.body).toContain(label);

    const before = await rowCounts(t);
    const wrong = await submit(f, [['f_subject', ''], ['f_details', 'My <b>printer</b> smokes'], ['f_area', 'Plumbing'], ['f_order', 'A-17']]);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('Some answers need your attention');
    expect(wrong.body).toContain('My &lt;b&gt;printer&lt;/b&gt; smokes');
    expect(wrong.body).toContain('value="A-17"');
    expect(wrong.body).toMatch(/id="f-subject-error">Fill in this field\./);
    expect(wrong.body).toMatch(/id="f-area-error">Choose one of the options\./);
    // Each field names what is wrong with it for screen readers too.
    expect(wrong.body).toMatch(/<input id="f-subject" [^>]*aria-describedby="f-subject-error" aria-invalid="true">/);
    const after = await rowCounts(t);
    for (const table of ['tickets', 'threads', 'messages', 'attachments'] as const) expect(after[table], table).toBe(before[table]);

    const ok = await submit(f, [['f_subject', 'Printer smokes'], ['f_details', 'Since this morning.'], ['f_area', 'Hardware'], ['f_order', 'A-17']], [
      { field: 'f_shots', name: 'smoke.png', type: 'image/png', content: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') },
    ]);
    expect(ok.statusCode, ok.body).toBe(303);
    const ticketId = Number(/\/(\d+)$/.exec(String(ok.headers.location))?.[1]);
    const ticket = await t.app.deps.db.selectFrom('tickets').selectAll().where('id', '=', ticketId).executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ subject: 'Printer smokes', description: 'Since this morning.', category: 'Hardware', source: 'form' });
    expect(await t.app.deps.db.selectFrom('ticket_contacts').select('contact_id').where('ticket_id', '=', ticketId).execute()).toEqual([{ contact_id: f.contactId }]);
    expect(await t.app.deps.db.selectFrom('ticket_companies').select('company_id').where('ticket_id', '=', ticketId).execute()).toEqual([{ company_id: f.companyId }]);
    const detail = await page(f, `/${f.slug}/${ticketId}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toContain('Order number: A-17');
    expect(detail.body).toContain('smoke.png');
    const threads = await call('GET', `/api/v1/threads?inboxId=${f.inboxId}`);
    expect(threads.json<{ items: { ticketId: number; contactId: number }[] }>().items).toContainEqual(expect.objectContaining({ ticketId, contactId: f.contactId }));
  });

  test('P25 C9 without the CSRF token nothing is filed; a portal without a form has no such page', async () => {
    const f = await fixture();
    const before = await rowCounts(t);
    const res = await submit(f, [['f_subject', 'x'], ['f_details', 'y'], ['f_area', 'Billing']], [], 'not-the-token');
    expect(res.statusCode).toBe(403);
    expect((await rowCounts(t)).tickets).toBe(before.tickets);
    await call('PATCH', `/api/v1/portals/${f.portalId}`, { formId: null });
    expect((await page(f, `/${f.slug}/new`)).statusCode).toBe(404);
    expect((await page(f, `/${f.slug}`)).body).not.toContain(`/${f.slug}/new`);
  });
});
