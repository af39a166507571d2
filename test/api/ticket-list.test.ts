import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

interface Summary {
  id: number;
  subject: string;
  stageId: number;
  status: string;
  ownerId: number | null;
  priority: string | null;
  lastActivityAt: string;
}

describe.each(dialects)('ticket lists stay current on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { role: 'admin' });
  });
  afterAll(async () => {
    await t.close();
  });

  const list = async (query: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/tickets?${query}`, headers: admin.auth });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return res.json<{ items: Summary[]; nextCursor: string | null }>();
  };

  test('C2 every change to a ticket shows in the next list, whichever way it was listed, at once', async () => {
    const s = t.app.services;
    const company = await s.companies.create({ name: unique('Co') });
    const contact = await s.contacts.create({ email: `${unique('c')}@example.com`, primaryCompanyId: company.id });
    const { pipeline, stages } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }, { name: 'Later', state: 'open' }] });
    const ticket = await s.tickets.create({ subject: 'First subject', pipelineId: pipeline.id, contactIds: [contact.id] }, null);
    const views = [`contactId=${contact.id}`, `companyId=${company.id}`, `pipelineId=${pipeline.id}`, `contactId=${contact.id}&status=open`, `contactId=${contact.id}&sort=-createdAt`];
    const seen = async () => Promise.all(views.map(async (v) => (await list(v)).items.find((i) => i.id === ticket.id)));

    for (const item of await seen()) expect(item?.subject).toBe('First subject');
    await s.tickets.update(ticket.id, { subject: 'Second subject', priority: 'high', ownerId: admin.id }, null);
    for (const item of await seen()) expect(item).toMatchObject({ subject: 'Second subject', priority: 'high', ownerId: admin.id });

    const later = stages[1]!;
    await s.tickets.update(ticket.id, { stageId: later.id }, null);
    for (const item of await seen()) expect(item?.stageId).toBe(later.id);

    // Closing the stage itself closes the ticket: no write to the ticket by id.
    t.clock.advance(1000);
    await s.pipelines.updateStage(pipeline.id, later.id, { state: 'closed' });
    const closed = await Promise.all(views.map(async (v) => (await list(v)).items.find((i) => i.id === ticket.id)));
    expect(closed.filter((i) => i !== undefined).every((i) => i.status === 'closed')).toBe(true);
    expect(closed[3]).toBeUndefined(); // the status=open view no longer holds it

    // A message moves last activity, through the thread, without touching the ticket directly.
    const inbox = await s.inboxes.create(unique('Inbox'));
    const thread = await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: ticket.id, subject: 'x' }, { type: 'system' });
    t.clock.advance(60_000);
    await s.conversations.addMessage({ threadId: thread.id, kind: 'message', author: { type: 'staff', staffUserId: admin.id }, bodyText: 'hello' });
    const moved = (await list(`contactId=${contact.id}`)).items.find((i) => i.id === ticket.id);
    expect(moved?.lastActivityAt).toBe(new Date(t.clock.now()).toISOString());
  });

  test('C2 a list never shows a field its schema does not name', async () => {
    const s = t.app.services;
    const contact = await s.contacts.create({ email: `${unique('c')}@example.com` });
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    await s.tickets.create({ subject: 'Private details inside', description: 'do not list me', pipelineId: pipeline.id, contactIds: [contact.id] }, null);
    const page = await list(`contactId=${contact.id}`);
    expect(Object.keys(page.items[0]!).sort()).toEqual(['category', 'closedAt', 'createdAt', 'id', 'lastActivityAt', 'ownerId', 'pipelineId', 'priority', 'source', 'stageId', 'status', 'subject', 'updatedAt']);
    expect(JSON.stringify(page)).not.toContain('do not list me');
    expect(JSON.stringify(page)).not.toContain('revision');
  });
});
