import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

interface Summary {
  id: number;
  subject: string;
  stageId: number;
  status: string;
  ownerId: number | null;
  priority: string | null;
  createdAt: string;
  lastActivityAt: string;
}
interface PageOf {
  items: Summary[];
  nextCursor: string | null;
}

describe.each(dialects)('the staff ticket list on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let agent: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { role: 'admin' });
    agent = await createStaff(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (query: string) => t.app.inject({ method: 'GET', url: `/api/v1/tickets?${query}`, headers: agent.auth });
  const list = async (query: string): Promise<PageOf> => {
    const res = await get(query);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<PageOf>();
  };
  const subjects = async (query: string) => (await list(query)).items.map((i) => i.subject);

  /** A pipeline of its own, so a test sees only its tickets. */
  async function pipeline() {
    const { pipeline: p, stages } = await t.app.services.pipelines.create({ name: unique('P'), stages: [{ name: 'New', state: 'open' }, { name: 'Waiting', state: 'open' }, { name: 'Done', state: 'closed' }] });
    return { id: p.id, stages: stages.map((s) => s.id) };
  }

  test('C10 filters on stage, priority, owner, unassigned, status, contact and company combine', async () => {
    const s = t.app.services;
    const p = await pipeline();
    const company = await s.companies.create({ name: unique('Co') });
    const contact = await s.contacts.create({ email: `${unique('c')}@example.com`, primaryCompanyId: company.id });
    const mk = async (subject: string, extra: Record<string, unknown> = {}) => {
      t.clock.advance(1000);
      return s.tickets.create({ subject, pipelineId: p.id, ...extra }, null);
    };
    await mk('Mine urgent', { ownerId: agent.id, priority: 'urgent' });
    await mk('Mine waiting', { ownerId: agent.id, stageId: p.stages[1] });
    await mk('Nobody', { contactIds: [contact.id] });
    await mk('Admin done', { ownerId: admin.id, stageId: p.stages[2] });
    const base = `pipelineId=${p.id}`;
    expect(await subjects(base)).toEqual(['Admin done', 'Nobody', 'Mine waiting', 'Mine urgent']);
    expect(await subjects(`${base}&ownerId=${agent.id}&status=open`)).toEqual(['Mine waiting', 'Mine urgent']);
    expect(await subjects(`${base}&unassigned=true`)).toEqual(['Nobody']);
    expect(await subjects(`${base}&unassigned=false&status=open`)).toEqual(['Mine waiting', 'Mine urgent']);
    expect(await subjects(`${base}&status=closed`)).toEqual(['Admin done']);
    expect(await subjects(`${base}&stageId=${p.stages[1]}`)).toEqual(['Mine waiting']);
    expect(await subjects(`${base}&priority=urgent`)).toEqual(['Mine urgent']);
    expect(await subjects(`companyId=${company.id}&unassigned=true&status=open`)).toEqual(['Nobody']);
    expect(await subjects(`contactId=${contact.id}&sort=subject`)).toEqual(['Nobody']);
  });

  test('C10 created and last-activity ranges, from inclusive, to exclusive', async () => {
    const s = t.app.services;
    const p = await pipeline();
    t.clock.advance(60_000);
    const first = await s.tickets.create({ subject: 'Older', pipelineId: p.id }, null);
    t.clock.advance(60_000);
    const second = await s.tickets.create({ subject: 'Newer', pipelineId: p.id }, null);
    t.clock.advance(60_000);
    await s.tickets.update(first.id, { priority: 'low' }, null); // not activity: last activity stays
    const at = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    expect(await subjects(`pipelineId=${p.id}&createdFrom=${at(second.created_at)}`)).toEqual(['Newer']);
    expect(await subjects(`pipelineId=${p.id}&createdTo=${at(second.created_at)}`)).toEqual(['Older']);
    expect(await subjects(`pipelineId=${p.id}&activityFrom=${at(first.last_activity_at)}&activityTo=${at(second.last_activity_at)}`)).toEqual(['Older']);
    const bad = await get(`pipelineId=${p.id}&createdFrom=yesterday`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test('C10 custom properties and any ticket property filter in the filter-rule language', async () => {
    const s = t.app.services;
    const p = await pipeline();
    const key = unique('plan').toLowerCase().replace(/[^a-z0-9_]/g, '_');
    await s.pipelines.createProperty({ key, label: 'Plan', type: 'enumeration', options: [{ value: 'gold', label: 'Gold' }, { value: 'free', label: 'Free' }] });
    await s.tickets.create({ subject: 'Gold customer', pipelineId: p.id, properties: { [key]: 'gold' }, category: 'billing' }, null);
    await s.tickets.create({ subject: 'Free customer', pipelineId: p.id, properties: { [key]: 'free' } }, null);
    const filter = (conditions: unknown) => `pipelineId=${p.id}&filter=${encodeURIComponent(JSON.stringify(conditions))}`;
    expect(await subjects(filter([{ property: `properties.${key}`, operator: 'is', value: 'gold' }]))).toEqual(['Gold customer']);
    expect(await subjects(filter([{ property: 'category', operator: 'is_unknown' }]))).toEqual(['Free customer']);
    const unknown = await get(filter([{ property: 'properties.nothing_like_it', operator: 'is', value: 'x' }]));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'INVALID_FILTER' });
    for (const raw of ['not json', '{"a":1}', '[{"property":"priority","operator":"near"}]']) {
      const res = await get(`pipelineId=${p.id}&filter=${encodeURIComponent(raw)}`);
      expect(res.statusCode, raw).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  test('C10 text search finds words of the subject and of the conversation the customer sees', async () => {
    const s = t.app.services;
    const p = await pipeline();
    const word = unique('zebra').toLowerCase().replace(/[^a-z]/g, '');
    await s.tickets.create({ subject: `Printer ${word} jammed`, pipelineId: p.id }, null);
    const other = await s.tickets.create({ subject: 'Something else', pipelineId: p.id }, null);
    const inbox = await s.inboxes.create(unique('Inbox'));
    await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId: other.id, subject: 'x', message: { bodyText: `It says ${word}` } }, { type: 'customer', contactId: null });
    expect((await subjects(`pipelineId=${p.id}&q=${word}`)).sort()).toEqual([`Printer ${word} jammed`, 'Something else']);
    expect(await subjects(`pipelineId=${p.id}&q=${encodeURIComponent(`printer ${word.slice(0, 4)}`)}`)).toEqual([`Printer ${word} jammed`]);
    expect(await subjects(`pipelineId=${p.id}&q=${encodeURIComponent('%%% ***')}`)).toEqual([]);
  });

  test('C10 every sort pages by keyset without losing or repeating a ticket, and refuses a cursor of another sort', async () => {
    const s = t.app.services;
    const p = await pipeline();
    const names = ['delta', 'Alpha', 'charlie', 'bravo', 'echo', 'alpha'];
    for (const name of names) {
      t.clock.advance(1000);
      await s.tickets.create({ subject: name, pipelineId: p.id }, null);
    }
    for (const sort of ['subject', '-subject', 'createdAt', '-createdAt', 'lastActivityAt', '-lastActivityAt']) {
      const all = (await list(`pipelineId=${p.id}&sort=${sort}&limit=100`)).items.map((i) => i.id);
      const paged: number[] = [];
      let cursor: string | null = null;
      do {
        const page: PageOf = await list(`pipelineId=${p.id}&sort=${sort}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        paged.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(paged, sort).toEqual(all);
      expect(new Set(paged).size).toBe(names.length);
    }
    const bySubject = await list(`pipelineId=${p.id}&sort=subject&limit=100`);
    const got = bySubject.items.map((i) => i.subject);
    expect(got.map((x) => x.toLowerCase())).toEqual([...got].map((x) => x.toLowerCase()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const first = await list(`pipelineId=${p.id}&sort=subject&limit=2`);
    const wrong = await get(`pipelineId=${p.id}&sort=createdAt&cursor=${first.nextCursor ?? ''}`);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'BAD_CURSOR' });
    expect((await get('sort=priority')).statusCode).toBe(400);
  });
});

describe.each(dialects)('the staff ticket list names people on %s', (dialect) => {
  let t: TestApp;
  let agent: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    agent = await createStaff(t);
  });
  afterAll(async () => {
    await t.close();
  });

  test('C10 include=people names each ticket\'s contacts and companies; without it the summary stays as it was', async () => {
    const s = t.app.services;
    const company = await s.companies.create({ name: unique('Globex') });
    const named = await s.contacts.create({ email: `${unique('h')}@example.com`, firstName: 'Hank', lastName: 'Scorpio', primaryCompanyId: company.id });
    const bare = await s.contacts.create({ email: `${unique('nameless')}@example.com` });
    const { pipeline } = await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] });
    const key = unique('tier').toLowerCase().replace(/[^a-z0-9_]/g, '_');
    await s.pipelines.createProperty({ key, label: 'Tier', type: 'text' });
    const ticket = await s.tickets.create({ subject: 'People', pipelineId: pipeline.id, contactIds: [named.id, bare.id], properties: { [key]: 'gold' } }, null);
    const withValues = await t.app.inject({ method: 'GET', url: `/api/v1/tickets?pipelineId=${pipeline.id}&include=properties,people`, headers: agent.auth });
    expect(withValues.json<{ items: Record<string, unknown>[] }>().items[0]).toMatchObject({ id: ticket.id, properties: { [key]: 'gold' }, contacts: [{ id: named.id }, { id: bare.id }] });
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/tickets?pipelineId=${pipeline.id}&include=people`, headers: agent.auth });
    expect(res.statusCode, res.body).toBe(200);
    const [item] = res.json<{ items: Record<string, unknown>[] }>().items;
    expect(item).toMatchObject({ id: ticket.id, subject: 'People', contacts: [{ id: named.id, name: 'Hank Scorpio' }, { id: bare.id, name: bare.email }], companies: [{ id: company.id, name: company.name }] });
    const plain = await t.app.inject({ method: 'GET', url: `/api/v1/tickets?pipelineId=${pipeline.id}`, headers: agent.auth });
    expect(Object.keys(plain.json<{ items: Record<string, unknown>[] }>().items[0]!)).not.toContain('contacts');
    expect(Object.keys(res.json<{ items: Record<string, unknown>[] }>().items[0]!)).not.toContain('properties');
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/tickets?include=everything`, headers: agent.auth })).statusCode).toBe(400);
  });
});
