import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

interface Thread { id: number; inboxId: number; subject: string; contactId: number | null; assigneeId: number | null; status: string }
interface Message { kind: string; authorType: string; bodyText: string }

describe.each(dialects)('a ticket opened with a description on %s', (dialect) => {
  let t: TestApp;
  let agent: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    agent = await createStaff(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (body: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/v1/tickets', headers: agent.auth, payload: body });
  const threadsOf = async (ticketId: number) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/threads?ticketId=${ticketId}`, headers: agent.auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Thread[] }>().items;
  };
  const messagesOf = async (threadId: number) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/threads/${threadId}/messages`, headers: agent.auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Message[] }>().items;
  };

  test('C2 C5 P20 the description starts the conversation the customer reads on the portal', async () => {
    const s = t.app.services;
    const host = `${unique('desc').toLowerCase().replace(/[^a-z0-9]/g, '')}.portal.test`;
    const email = `${unique('caller')}@example.com`;
    const contact = await s.contacts.create({ email, firstName: 'Carla' });
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    const inbox = await s.inboxes.create(unique('Phone inbox'));
    const portal = await s.portals.create({ name: unique('Portal'), domain: host, consentText: 'ok', defaultInboxId: inbox.inbox.id });
    await s.portals.update(portal.id, { enabled: true });
    const password = 'a long and secret portal password';
    await s.portals.createMember(portal.id, contact.id, password);

    const res = await post({ subject: 'Printer on fire', description: 'Caller says the printer smokes after page two.', pipelineId: pipeline.id, source: 'phone', contactIds: [contact.id], inboxId: inbox.inbox.id, ownerId: agent.id });
    expect(res.statusCode, res.body).toBe(201);
    const ticket = res.json<{ id: number; description: string | null }>();
    expect(ticket.description).toBe('Caller says the printer smokes after page two.');

    const [thread, ...more] = await threadsOf(ticket.id);
    expect(more).toEqual([]);
    expect(thread).toMatchObject({ inboxId: inbox.inbox.id, subject: 'Printer on fire', contactId: contact.id, assigneeId: agent.id, status: 'open' });
    expect(await messagesOf(thread!.id)).toMatchObject([{ kind: 'message', authorType: 'customer', bodyText: 'Caller says the printer smokes after page two.' }]);

    const fresh = await s.portals.get(portal.id);
    const { token } = await s.memberAuth.signIn(fresh, email, password, { ip: '127.0.0.1', userAgent: 'test' });
    const page = await t.app.inject({ method: 'GET', url: `/${portal.slug}/${ticket.id}`, headers: { host, cookie: `portico_member=${token}` } });
    expect(page.statusCode, page.body.slice(0, 300)).toBe(200);
    expect(page.body).toContain('Caller says the printer smokes after page two.');
    expect(page.body).not.toContain('No messages yet');
    // No mail went to the customer: the message is theirs.
    const mail = await t.app.inject({ method: 'GET', url: '/api/v1/outbox?limit=100', headers: (await createStaff(t, { role: 'admin' })).auth });
    expect(mail.body).not.toContain('Printer on fire');
  });

  test('C2 without an inbox named, the pipeline\'s inbox takes the conversation; without a description there is none', async () => {
    const s = t.app.services;
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    const inbox = await s.inboxes.create(unique('Filing inbox'));
    await s.inboxes.update(inbox.inbox.id, { createsTickets: true, pipelineId: pipeline.id });
    const withText = (await post({ subject: 'Walk-in', description: 'At the desk', pipelineId: pipeline.id })).json<{ id: number }>();
    expect((await threadsOf(withText.id)).map((th) => th.inboxId)).toEqual([inbox.inbox.id]);
    const blank = (await post({ subject: 'Nothing said', description: '   ', pipelineId: pipeline.id })).json<{ id: number }>();
    expect(await threadsOf(blank.id)).toEqual([]);
    const none = (await post({ subject: 'No description', pipelineId: pipeline.id })).json<{ id: number }>();
    expect(await threadsOf(none.id)).toEqual([]);
  });

  test('C2 an unknown inbox is refused and nothing is written', async () => {
    const s = t.app.services;
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    const subject = unique('Never saved');
    const res = await post({ subject, description: 'text', pipelineId: pipeline.id, inboxId: 999999 });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'INBOX_NOT_FOUND' });
    const list = await t.app.inject({ method: 'GET', url: `/api/v1/tickets?pipelineId=${pipeline.id}`, headers: agent.auth });
    expect(list.json<{ items: unknown[] }>().items).toEqual([]);
  });
});
