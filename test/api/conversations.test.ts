import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

interface Channel { id: number; type: string; address: string | null }
interface Inbox { id: number; channels: Channel[] }
interface Thread { id: number; inboxId: number; channelId: number | null; ticketId: number | null; contactId: number | null; status: string; assigneeId: number | null }
interface Attachment { id: number; messageId: number | null; filename: string; contentType: string; size: number; sha256: string }
interface Message { id: number; kind: 'message' | 'comment'; authorType: string; contactId: number | null; staffUserId: number | null; bodyText: string; bodyHtml: string | null; attachments: Attachment[] }
interface Engagement { type: string; messageId: number | null; occurredAt: string }
interface Page<T> { items: T[]; nextCursor: string | null }
interface Problem { code: string }
/** A multipart/form-data body built by hand: one file part. */
function multipart(filenameParam: string, content: Buffer, contentType = 'application/octet-stream', field = 'file') {
  const boundary = `----portico-${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; ${filenameParam}\r\nContent-Type: ${contentType}\r\n\r\n`, 'utf8');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, content, tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Content-Disposition as RFC 6266 and RFC 8187 define it: an ASCII fallback and the exact UTF-8 name. */
const DISPOSITION = /^attachment; filename="([\x20\x21\x23-\x5b\x5d-\x7e]*)"; filename\*=UTF-8''((?:%[0-9A-F]{2}|[A-Za-z0-9!#$&+.^_`|~-])+)$/;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4e30000000049454e44ae426082', 'hex');

describe.each(dialects)('inboxes, conversations and timelines on %s', (dialect) => {
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
  async function created<T>(url: string, payload: object, as: TestStaff = admin): Promise<T> {
    const res = await call('POST', url, payload, as);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<T>();
  }
  const inbox = () => created<Inbox>('/api/v1/inboxes', { name: unique('Support') });
  const thread = (body: object, as: TestStaff = admin) => created<Thread>('/api/v1/threads', { subject: unique('Help'), ...body }, as);
  const message = (threadId: number, body: object, as: TestStaff = admin) => created<Message>(`/api/v1/threads/${threadId}/messages`, body, as);
  const messages = async (threadId: number) => (await call('GET', `/api/v1/threads/${threadId}/messages`)).json<Page<Message>>().items;
  const threadIds = async (query: string) => (await call('GET', `/api/v1/threads?${query}`)).json<Page<Thread>>().items.map((x) => x.id);
  async function ticket(body: object = {}): Promise<{ id: number; companyIds: number[] }> {
    const p = await created<{ id: number }>('/api/v1/pipelines', { name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    return created('/api/v1/tickets', { subject: unique('Ticket'), pipelineId: p.id, ...body });
  }
  async function upload(content: Buffer, filenameParam = 'filename="notes.bin"', contentType = 'application/octet-stream', as: TestStaff = admin, app: TestApp = t) {
    const body = multipart(filenameParam, content, contentType);
    return app.app.inject({ method: 'POST', url: '/api/v1/attachments', payload: body.payload, headers: { ...body.headers, ...as.auth } });
  }
  async function uploaded(content: Buffer, filenameParam?: string, contentType?: string, as: TestStaff = admin): Promise<Attachment> {
    const res = await upload(content, filenameParam, contentType, as);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Attachment>();
  }

  test('C3 an email channel needs an address, unique case-insensitively (409 ADDRESS_TAKEN); other channel types refuse one', async () => {
    const [a, b] = [await inbox(), await inbox()];
    const address = `${unique('help')}@Support.example.com`;
    const missing = await call('POST', `/api/v1/inboxes/${a.id}/channels`, { type: 'email', name: 'Mail' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json<Problem>().code).toBe('ADDRESS_REQUIRED');
    const mail = await created<Inbox>(`/api/v1/inboxes/${a.id}/channels`, { type: 'email', name: 'Mail', address });
    expect(mail.channels).toMatchObject([{ type: 'email', address }]);

    const before = await rowCounts(t);
    const taken = await call('POST', `/api/v1/inboxes/${b.id}/channels`, { type: 'email', name: 'Mail', address: address.toUpperCase() });
    expect(taken.statusCode).toBe(409);
    expect(taken.json<Problem>().code).toBe('ADDRESS_TAKEN');
    for (const type of ['form', 'chat', 'portal']) {
      const refused = await call('POST', `/api/v1/inboxes/${b.id}/channels`, { type, name: type, address: `${unique('x')}@example.com` });
      expect(refused.statusCode, type).toBe(422);
      expect(refused.json<Problem>().code).toBe('ADDRESS_NOT_ALLOWED');
    }
    expect(await rowCounts(t)).toEqual(before);

    const other = await created<Inbox>(`/api/v1/inboxes/${b.id}/channels`, { type: 'email', name: 'Other', address: `${unique('o')}@example.com` });
    const form = await created<Inbox>(`/api/v1/inboxes/${b.id}/channels`, { type: 'form', name: 'Form' });
    expect(form.channels.map((c) => c.type)).toEqual(['email', 'form']);
    const steal = await call('PATCH', `/api/v1/inboxes/${b.id}/channels/${other.channels[0]!.id}`, { address: address.toLowerCase() });
    expect(steal.statusCode).toBe(409);
    const formAddress = await call('PATCH', `/api/v1/inboxes/${b.id}/channels/${form.channels[1]!.id}`, { address: `${unique('f')}@example.com` });
    expect(formAddress.json<Problem>().code).toBe('ADDRESS_NOT_ALLOWED');
  });

  test('C3 an inbox with threads cannot be deleted (409 INBOX_IN_USE); an empty one can', async () => {
    const [busy, empty] = [await inbox(), await inbox()];
    await thread({ inboxId: busy.id });
    const refused = await call('DELETE', `/api/v1/inboxes/${busy.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json<Problem>().code).toBe('INBOX_IN_USE');
    expect((await call('GET', `/api/v1/inboxes/${busy.id}`)).statusCode).toBe(200);
    expect((await call('DELETE', `/api/v1/inboxes/${empty.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/inboxes/${empty.id}`)).statusCode).toBe(404);
  });

  test('C3 a thread starts with its first message and is filtered by inbox, status, assignee, unassigned (or both) and ticket', async () => {
    const [box, otherBox] = [await inbox(), await inbox()];
    const agent = await createStaff(t);
    const tk = await ticket();
    const a = await thread({ inboxId: box.id, message: { bodyText: 'First words' } });
    expect(await messages(a.id)).toMatchObject([{ kind: 'message', authorType: 'staff', staffUserId: admin.id, bodyText: 'First words' }]);
    t.clock.advance(1000);
    const b = await thread({ inboxId: box.id, assigneeId: agent.id, ticketId: tk.id });
    t.clock.advance(1000);
    const c = await thread({ inboxId: box.id, assigneeId: agent.id });
    await call('PATCH', `/api/v1/threads/${c.id}`, { status: 'closed' });
    const d = await thread({ inboxId: otherBox.id, assigneeId: agent.id });

    expect(await threadIds(`inboxId=${box.id}`)).toEqual([c.id, b.id, a.id]);
    expect(await threadIds(`inboxId=${box.id}&status=open`)).toEqual([b.id, a.id]);
    expect(await threadIds(`inboxId=${box.id}&status=closed`)).toEqual([c.id]);
    expect((await threadIds(`assigneeId=${agent.id}`)).sort((x, y) => x - y)).toEqual([b.id, c.id, d.id]);
    expect(await threadIds(`inboxId=${box.id}&unassigned=true`)).toEqual([a.id]);
    expect(await threadIds(`ticketId=${tk.id}`)).toEqual([b.id]);
    // The inbox's first view: mine and unassigned.
    expect(await threadIds(`inboxId=${box.id}&status=open&unassigned=true&assigneeId=${agent.id}`)).toEqual([b.id, a.id]);
  });

  test("C3 a thread's status, assignee, ticket and inbox change; unknown references answer 422 and change nothing", async () => {
    const [box, otherBox] = [await inbox(), await inbox()];
    const agent = await createStaff(t);
    const tk = await ticket();
    const th = await thread({ inboxId: box.id });
    const changed = await call('PATCH', `/api/v1/threads/${th.id}`, { status: 'closed', assigneeId: agent.id, ticketId: tk.id });
    expect(changed.json()).toMatchObject({ status: 'closed', assigneeId: agent.id, ticketId: tk.id });
    const cleared = (await call('PATCH', `/api/v1/threads/${th.id}`, { status: 'open', assigneeId: null, ticketId: null })).json<Thread>();
    expect(cleared).toMatchObject({ status: 'open', assigneeId: null, ticketId: null });
    for (const [body, code] of [[{ assigneeId: 2_000_000_000 }, 'STAFF_USER_NOT_FOUND'], [{ ticketId: 2_000_000_000 }, 'TICKET_NOT_FOUND'], [{ inboxId: 2_000_000_000 }, 'INBOX_NOT_FOUND']] as const) {
      const res = await call('PATCH', `/api/v1/threads/${th.id}`, { status: 'closed', ...body });
      expect(res.statusCode).toBe(422);
      expect(res.json<Problem>().code).toBe(code);
    }
    expect((await call('GET', `/api/v1/threads/${th.id}`)).json()).toEqual(cleared);
    expect((await call('PATCH', `/api/v1/threads/${th.id}`, { inboxId: otherBox.id })).json()).toMatchObject({ inboxId: otherBox.id, channelId: null });
  });

  test('C3 C5 messages and internal comments are both listed for staff, with their kind and author', async () => {
    const box = await inbox();
    const person = await created<{ id: number }>('/api/v1/contacts', { email: `${unique('c')}@example.com` });
    const th = await thread({ inboxId: box.id, contactId: person.id });
    const fromCustomer = await t.app.services.conversations.addMessage({ threadId: th.id, kind: 'message', author: { type: 'customer', contactId: person.id }, bodyText: 'Help me' });
    const reply = await message(th.id, { bodyText: 'On it' });
    const note = await message(th.id, { kind: 'comment', bodyText: 'Customer is a VIP' });
    expect(reply).toMatchObject({ kind: 'message', authorType: 'staff', staffUserId: admin.id });
    expect(note).toMatchObject({ kind: 'comment', authorType: 'staff' });
    expect((await messages(th.id)).map((m) => [m.id, m.kind, m.authorType, m.contactId, m.bodyText])).toEqual([
      [fromCustomer.id, 'message', 'customer', person.id, 'Help me'],
      [reply.id, 'message', 'staff', null, 'On it'],
      [note.id, 'comment', 'staff', null, 'Customer is a VIP'],
    ]);
  });

  test('C3 message HTML is sanitised and its text derived when none is given', async () => {
    const th = await thread({ inboxId: (await inbox()).id });
    const m = await message(th.id, {
      bodyHtml: '<p>Hello <b>there</b></p><script>alert("x")</script><img src="x" onerror="alert(1)">'
        + '<p><a href="javascript:alert(2)">click</a> and <a href="https://example.com/help" onclick="steal()">help</a></p>'
        + '<p><a href="http://example.org/" rel="opener" target="_self">more</a></p>',
    });
    const html = m.bodyHtml!;
    for (const gone of ['<script', 'alert', 'onerror', '<img', 'javascript:', 'onclick']) expect(html).not.toContain(gone);
    const link = /<a [^>]*href="https:\/\/example\.com\/help"[^>]*>help<\/a>/.exec(html)?.[0];
    expect(link).toContain('rel="noopener noreferrer nofollow"');
    const plain = /<a [^>]*href="http:\/\/example\.org\/"[^>]*>more<\/a>/.exec(html)?.[0];
    expect(plain).toContain('rel="noopener noreferrer nofollow"');
    expect(plain).not.toContain('_self');
    expect(html).toContain('<b>there</b>');
    expect(m.bodyText).toMatch(/^Hello there\s+click and help\s+more$/);
    const given = await message(th.id, { bodyHtml: '<p>Rich</p>', bodyText: 'Plain' });
    expect(given).toMatchObject({ bodyText: 'Plain', bodyHtml: '<p>Rich</p>' });
  });

  test('C3 an empty message answers 422 EMPTY_MESSAGE and writes nothing', async () => {
    const box = await inbox();
    const th = await thread({ inboxId: box.id });
    const before = await rowCounts(t);
    for (const body of [{}, { bodyText: '   ' }, { bodyHtml: '<script>alert(1)</script>' }, { bodyHtml: '<p> </p>', kind: 'comment' }]) {
      const res = await call('POST', `/api/v1/threads/${th.id}/messages`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json<Problem>().code).toBe('EMPTY_MESSAGE');
    }
    const withThread = await call('POST', '/api/v1/threads', { inboxId: box.id, subject: 'x', message: { bodyText: ' ' } });
    expect(withThread.json<Problem>().code).toBe('EMPTY_MESSAGE');
    expect(await rowCounts(t)).toEqual(before);
  });

  test('C3 an upload is attached to a message and downloaded byte for byte, never rendered', async () => {
    const bytes = randomBytes(3000);
    const file = await uploaded(bytes, 'filename="report.bin"');
    expect(file).toMatchObject({ messageId: null, filename: 'report.bin', contentType: 'application/octet-stream', size: 3000, sha256: createHash('sha256').update(bytes).digest('hex') });
    const th = await thread({ inboxId: (await inbox()).id });
    const m = await message(th.id, { bodyText: 'See attached', attachmentIds: [file.id] });
    expect(m.attachments).toMatchObject([{ id: file.id, messageId: m.id, filename: 'report.bin' }]);
    expect((await messages(th.id))[0]!.attachments.map((a) => a.id)).toEqual([file.id]);

    const res = await call('GET', `/api/v1/attachments/${file.id}/content`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(bytes)).toBe(true);
    expect(res.headers).toMatchObject({
      'content-type': 'application/octet-stream', 'content-length': '3000', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; sandbox",
    });
    expect(String(res.headers['content-disposition'])).toMatch(/^attachment; filename="report\.bin"/);
    expect((await call('GET', '/api/v1/attachments/2000000000/content')).statusCode).toBe(404);
  });

  test('C3 a download has a safe filename for names with quotes, slashes and non-ASCII, and its type comes from its bytes', async () => {
    const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
    const name = `filename*=UTF-8''${encodeURIComponent('../etc/"Zoë\'s" résumé (v2) ✓.html')}`;
    const page = await uploaded(html, name, 'text/html');
    expect(page.contentType).toBe('application/octet-stream');
    expect(page.filename).not.toMatch(/["/\\]/);
    expect(page.filename).toContain('résumé (v2) ✓.html');
    const res = await call('GET', `/api/v1/attachments/${page.id}/content`);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    const parsed = DISPOSITION.exec(String(res.headers['content-disposition']));
    expect(parsed, String(res.headers['content-disposition'])).not.toBeNull();
    expect(decodeURIComponent(parsed![2]!)).toBe(page.filename);
    expect(res.rawPayload.equals(html)).toBe(true);

    const image = await uploaded(PNG, 'filename="picture.html"', 'text/html');
    expect(image.contentType).toBe('image/png');
    const shown = await call('GET', `/api/v1/attachments/${image.id}/content`);
    expect(shown.headers['content-type']).toBe('image/png');
    expect(String(shown.headers['content-disposition'])).toMatch(/^attachment;/);
  });

  test('C3 the same bytes uploaded twice share one stored file', async () => {
    const bytes = randomBytes(1500);
    const [first, second] = [await uploaded(bytes, 'filename="a.bin"'), await uploaded(bytes, 'filename="b.bin"')];
    expect(second.id).not.toBe(first.id);
    expect(second.sha256).toBe(first.sha256);
    const dir = join(t.dataDir, 'files', first.sha256.slice(0, 2), first.sha256.slice(2, 4));
    expect(readdirSync(dir)).toEqual([first.sha256]);
    expect(statSync(join(dir, first.sha256)).size).toBe(1500);
    for (const f of [first, second]) expect((await call('GET', `/api/v1/attachments/${f.id}/content`)).rawPayload.equals(bytes)).toBe(true);
  });

  test('C3 another staff member cannot attach, read or download my upload before it is on a message, and an attached upload cannot be reused (422 ATTACHMENT_NOT_AVAILABLE)', async () => {
    const other = await createStaff(t);
    const th = await thread({ inboxId: (await inbox()).id });
    const mine = await uploaded(randomBytes(100));
    const before = await rowCounts(t);
    for (const [ids, as] of [[[mine.id], other], [[mine.id, 2_000_000_000], admin]] as const) {
      const res = await call('POST', `/api/v1/threads/${th.id}/messages`, { bodyText: 'x', attachmentIds: ids }, as);
      expect(res.statusCode).toBe(422);
      expect(res.json<Problem>().code).toBe('ATTACHMENT_NOT_AVAILABLE');
    }
    expect(await rowCounts(t)).toEqual(before);
    expect((await call('GET', `/api/v1/attachments/${mine.id}`)).json<Attachment>().messageId).toBeNull();
    // Nor read it before it is on a message: another's upload answers like a missing file, even to an admin.
    for (const who of [other, await createStaff(t, { role: 'admin' })]) {
      expect((await call('GET', `/api/v1/attachments/${mine.id}`, undefined, who)).statusCode).toBe(404);
      expect((await call('GET', `/api/v1/attachments/${mine.id}/content`, undefined, who)).statusCode).toBe(404);
    }
    const used = await message(th.id, { bodyText: 'mine', attachmentIds: [mine.id] });
    // On a message, it is the conversation's, for every staff member.
    expect((await call('GET', `/api/v1/attachments/${mine.id}/content`, undefined, other)).statusCode).toBe(200);
    const again = await call('POST', `/api/v1/threads/${th.id}/messages`, { bodyText: 'again', attachmentIds: [mine.id] });
    expect(again.json<Problem>().code).toBe('ATTACHMENT_NOT_AVAILABLE');
    expect((await call('GET', `/api/v1/attachments/${mine.id}`)).json<Attachment>().messageId).toBe(used.id);
  });

  test('C3 an upload over ATTACHMENT_LIMIT_BYTES answers 413 and leaves no row and no file', async () => {
    const small = await createTestApp(dialect, { ATTACHMENT_LIMIT_BYTES: '2048' });
    try {
      const staff = await createStaff(small);
      const before = await rowCounts(small);
      const res = await upload(randomBytes(4096), 'filename="big.bin"', 'application/octet-stream', staff, small);
      expect(res.statusCode).toBe(413);
      expect(res.json<Problem>().code).toBe('PAYLOAD_TOO_LARGE');
      expect(await rowCounts(small)).toEqual(before);
      const files = join(small.dataDir, 'files');
      const left = existsSync(files) ? readdirSync(files, { recursive: true }).map(String).filter((p) => statSync(join(files, p)).isFile()) : [];
      expect(left).toEqual([]);
      expect((await upload(randomBytes(2048), 'filename="fits.bin"', 'application/octet-stream', staff, small)).statusCode).toBe(201);
    } finally {
      await small.close();
    }
  });

  test('C3 an upload that is not multipart answers 415', async () => {
    const before = await rowCounts(t);
    for (const [type, payload] of [['application/json', '{"file":"aGVsbG8="}'], ['text/plain', 'hello'], ['application/octet-stream', 'hello']]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/attachments', headers: { ...admin.auth, 'content-type': type! }, payload: payload! });
      expect(res.statusCode, type).toBe(415);
      expect(res.json<Problem>().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await rowCounts(t)).toEqual(before);
  });

  async function timeline(kind: 'contacts' | 'tickets' | 'companies', id: number, limit = 100) {
    const out: Engagement[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await call('GET', `/api/v1/${kind}/${id}/timeline?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<Page<Engagement>>();
      out.push(...page.items);
      cursor = page.nextCursor;
      if (cursor === null) return out;
    }
    throw new Error('pagination did not end');
  }

  test("C5 P27 customer messages and staff replies on a ticket's thread are email engagements on the contact's, ticket's and company's timelines; comments are notes", async () => {
    const co = await created<{ id: number }>('/api/v1/companies', { name: unique('Co') });
    const person = await created<{ id: number }>('/api/v1/contacts', { email: `${unique('c')}@example.com`, primaryCompanyId: co.id });
    const tk = await ticket({ contactIds: [person.id] });
    expect(tk.companyIds).toEqual([co.id]);
    const th = await thread({ inboxId: (await inbox()).id, ticketId: tk.id, contactId: person.id });
    t.clock.advance(1000);
    const asked = await t.app.services.conversations.addMessage({ threadId: th.id, kind: 'message', author: { type: 'customer', contactId: person.id }, bodyText: 'My printer is on fire' });
    t.clock.advance(1000);
    const reply = await message(th.id, { bodyText: 'Please step away from it' });
    t.clock.advance(1000);
    const note = await message(th.id, { kind: 'comment', bodyText: 'Call the fire brigade' });
    // A thread staff opened on the ticket, without a contact of its own (a phone ticket, P20).
    const staffThread = await thread({ inboxId: (await inbox()).id, ticketId: tk.id });
    t.clock.advance(1000);
    const followUp = await message(staffThread.id, { bodyText: 'Following up by mail' });

    const expected = [['email', followUp.id], ['note', note.id], ['email', reply.id], ['email', asked.id], ['ticket_created', null]];
    for (const [kind, id] of [['contacts', person.id], ['tickets', tk.id], ['companies', co.id]] as const) {
      expect((await timeline(kind, id)).map((e) => [e.type, e.messageId]), kind).toEqual(expected);
    }
    const other = await created<{ id: number }>('/api/v1/contacts', { email: `${unique('c')}@example.com` });
    expect(await timeline('contacts', other.id)).toEqual([]);
  });

  test('C5 timelines are newest first and paginate, every engagement once', async () => {
    const tk = await ticket();
    const th = await thread({ inboxId: (await inbox()).id, ticketId: tk.id });
    for (let i = 0; i < 6; i++) {
      await message(th.id, { bodyText: `Update ${i}`, kind: i % 2 === 0 ? 'message' : 'comment' });
      if (i % 2 === 1) t.clock.advance(1000);
    }
    const whole = await timeline('tickets', tk.id);
    expect(whole).toHaveLength(7);
    const times = whole.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const limit of [1, 2, 3]) expect(await timeline('tickets', tk.id, limit), `by ${limit}`).toEqual(whole);
    const bad = await call('GET', `/api/v1/tickets/${tk.id}/timeline?cursor=${Buffer.from(JSON.stringify(['-occurredAt', 'soon', 1])).toString('base64url')}`);
    expect(bad.json<Problem>().code).toBe('BAD_CURSOR');
  });
});
