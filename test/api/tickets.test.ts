import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caller, createStaff, createTestApp, dialects, rowCounts, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

interface Stage { id: number; pipelineId: number; name: string; position: number; state: 'open' | 'closed' }
interface Pipeline { id: number; name: string; stages: Stage[] }
interface Ticket {
  id: number; subject: string; pipelineId: number; stageId: number; status: 'open' | 'closed'; priority: string | null; category: string | null;
  source: string; ownerId: number | null; properties: Record<string, unknown>; contactIds: number[]; companyIds: number[];
  createdAt: string; updatedAt: string; lastActivityAt: string; closedAt: string | null;
}
interface Engagement { type: string; ticketId: number | null; occurredAt: string }
interface Page<T> { items: T[]; nextCursor: string | null }
interface Problem { code: string; errors?: { path: string }[] }
const OPEN_AND_CLOSED = [{ name: 'New', state: 'open' }, { name: 'Waiting', state: 'open' }, { name: 'Solved', state: 'closed' }];

describe.each(dialects)('pipelines and tickets on %s', (dialect) => {
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
  const now = () => new Date(t.clock.now()).toISOString();

  async function created<T>(url: string, payload: object): Promise<T> {
    const res = await call('POST', url, payload);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<T>();
  }
  const pipeline = (stages: object[] = OPEN_AND_CLOSED) => created<Pipeline>('/api/v1/pipelines', { name: unique('Pipeline'), stages });
  const company = () => created<{ id: number }>('/api/v1/companies', { name: unique('Co') });
  const contact = (body: object = {}) => created<{ id: number }>('/api/v1/contacts', { email: `${unique('c')}@example.com`, ...body });
  const ticket = (pipelineId: number, body: object = {}) => created<Ticket>('/api/v1/tickets', { subject: unique('Printer on fire'), pipelineId, ...body });
  const getTicket = async (id: number) => (await call('GET', `/api/v1/tickets/${id}`)).json<Ticket>();
  const patch = (id: number, body: object) => call('PATCH', `/api/v1/tickets/${id}`, body);
  const stageOf = (p: Pipeline, name: string) => p.stages.find((s) => s.name === name)!;

  async function walk(query: string, limit = 100): Promise<Ticket[]> {
    const out: Ticket[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await call('GET', `/api/v1/tickets?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<Page<Ticket>>();
      out.push(...page.items);
      cursor = page.nextCursor;
      if (cursor === null) return out;
    }
    throw new Error('pagination did not end');
  }
  const idsOf = async (query: string) => (await walk(query)).map((x) => x.id);

  test('C2 a pipeline keeps its stages in order; stages are added, changed, reordered and deleted', async () => {
    const p = await pipeline();
    expect(p.stages.map((s) => [s.name, s.state, s.position])).toEqual([['New', 'open', 0], ['Waiting', 'open', 1], ['Solved', 'closed', 2]]);
    const added = await created<Pipeline>(`/api/v1/pipelines/${p.id}/stages`, { name: 'Archived', state: 'closed' });
    expect(added.stages.map((s) => s.name)).toEqual(['New', 'Waiting', 'Solved', 'Archived']);

    const waiting = stageOf(p, 'Waiting');
    const moved = await call('PATCH', `/api/v1/pipelines/${p.id}/stages/${waiting.id}`, { name: 'On hold', position: 9 });
    expect(moved.statusCode).toBe(200);
    expect(moved.json<Pipeline>().stages.map((s) => s.name)).toEqual(['New', 'Solved', 'Archived', 'On hold']);
    expect((await call('GET', `/api/v1/pipelines/${p.id}`)).json()).toEqual(moved.json());

    const first = await call('PATCH', `/api/v1/pipelines/${p.id}/stages/${stageOf(p, 'New').id}`, { position: 10 });
    expect(first.json<Pipeline>().stages[0]!.name).toBe('Solved');
    const defaulted = await ticket(p.id);
    expect(defaulted).toMatchObject({ stageId: stageOf(p, 'Solved').id, status: 'closed' });

    expect((await call('DELETE', `/api/v1/pipelines/${p.id}/stages/${stageOf(added, 'Archived').id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/pipelines/${p.id}`)).json<Pipeline>().stages.map((s) => s.name)).toEqual(['Solved', 'On hold', 'New']);

    const other = await pipeline([{ name: 'Only', state: 'open' }]);
    expect((await call('DELETE', `/api/v1/pipelines/${p.id}/stages/${other.stages[0]!.id}`)).statusCode).toBe(404);
    const last = await call('DELETE', `/api/v1/pipelines/${other.id}/stages/${other.stages[0]!.id}`);
    expect(last.statusCode).toBe(409);
    expect(last.json<Problem>().code).toBe('LAST_STAGE');
    const agent = await createStaff(t);
    expect((await call('POST', `/api/v1/pipelines/${p.id}/stages`, { name: 'Nope', state: 'open' }, agent)).statusCode).toBe(403);
  });

  test('C2 a stage or a pipeline that holds tickets cannot be deleted (409)', async () => {
    const p = await pipeline();
    const tk = await ticket(p.id, { stageId: stageOf(p, 'Waiting').id });
    const stage = await call('DELETE', `/api/v1/pipelines/${p.id}/stages/${stageOf(p, 'Waiting').id}`);
    expect(stage.statusCode).toBe(409);
    expect(stage.json<Problem>().code).toBe('STAGE_IN_USE');
    const whole = await call('DELETE', `/api/v1/pipelines/${p.id}`);
    expect(whole.statusCode).toBe(409);
    expect(whole.json<Problem>().code).toBe('PIPELINE_IN_USE');
    expect((await call('GET', `/api/v1/pipelines/${p.id}`)).json<Pipeline>().stages).toHaveLength(3);

    expect((await call('DELETE', `/api/v1/tickets/${tk.id}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/v1/pipelines/${p.id}/stages/${stageOf(p, 'Waiting').id}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/v1/pipelines/${p.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/pipelines/${p.id}`)).statusCode).toBe(404);
  });

  test("C2 a ticket starts in its pipeline's first stage; a stage of another pipeline answers 422 STAGE_NOT_IN_PIPELINE", async () => {
    const [p, q] = [await pipeline(), await pipeline([{ name: 'Triage', state: 'open' }, { name: 'Done', state: 'closed' }])];
    const tk = await ticket(p.id);
    expect(tk).toMatchObject({ pipelineId: p.id, stageId: stageOf(p, 'New').id, status: 'open', closedAt: null, source: 'api', createdAt: now(), lastActivityAt: now() });

    const before = await rowCounts(t);
    const wrong = await call('POST', '/api/v1/tickets', { subject: 'x', pipelineId: p.id, stageId: stageOf(q, 'Triage').id });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json<Problem>()).toMatchObject({ code: 'STAGE_NOT_IN_PIPELINE', errors: [{ path: '/body/stageId' }] });
    expect(await rowCounts(t)).toEqual(before);
    const moveWrong = await patch(tk.id, { stageId: stageOf(q, 'Done').id });
    expect(moveWrong.json<Problem>().code).toBe('STAGE_NOT_IN_PIPELINE');
    expect(await getTicket(tk.id)).toEqual(tk);

    const moved = await patch(tk.id, { pipelineId: q.id });
    expect(moved.json()).toMatchObject({ pipelineId: q.id, stageId: stageOf(q, 'Triage').id });
    expect((await patch(tk.id, { pipelineId: p.id, stageId: stageOf(p, 'Waiting').id })).json()).toMatchObject({ pipelineId: p.id, stageId: stageOf(p, 'Waiting').id });
  });

  test('C2 a ticket in a closed stage is closed with its closedAt; moving back to an open stage reopens it', async () => {
    const p = await pipeline();
    const solved = await ticket(p.id, { stageId: stageOf(p, 'Solved').id });
    expect(solved).toMatchObject({ status: 'closed', closedAt: now() });
    const tk = await ticket(p.id);
    t.clock.advance(3_600_000);
    const closed = (await patch(tk.id, { stageId: stageOf(p, 'Solved').id })).json<Ticket>();
    expect(closed).toMatchObject({ status: 'closed', closedAt: now() });
    t.clock.advance(60_000);
    expect((await patch(tk.id, { subject: 'Still closed' })).json()).toMatchObject({ status: 'closed', closedAt: closed.closedAt });
    const reopened = await patch(tk.id, { stageId: stageOf(p, 'Waiting').id });
    expect(reopened.json()).toMatchObject({ status: 'open', closedAt: null });
    expect(await idsOf(`pipelineId=${p.id}&status=closed`)).toEqual([solved.id]);
  });

  test("C2 changing a stage's state closes (or reopens) every ticket in it", async () => {
    const p = await pipeline();
    const waiting = stageOf(p, 'Waiting');
    const [a, b] = [await ticket(p.id, { stageId: waiting.id }), await ticket(p.id, { stageId: waiting.id })];
    const elsewhere = await ticket(p.id);
    t.clock.advance(5_000);
    const res = await call('PATCH', `/api/v1/pipelines/${p.id}/stages/${waiting.id}`, { state: 'closed' });
    expect(stageOf(res.json<Pipeline>(), 'Waiting').state).toBe('closed');
    for (const id of [a.id, b.id]) expect(await getTicket(id)).toMatchObject({ status: 'closed', closedAt: now() });
    expect(await getTicket(elsewhere.id)).toMatchObject({ status: 'open', closedAt: null });
    expect(await idsOf(`pipelineId=${p.id}&status=closed`)).toHaveLength(2);

    await call('PATCH', `/api/v1/pipelines/${p.id}/stages/${waiting.id}`, { state: 'open' });
    for (const id of [a.id, b.id]) expect(await getTicket(id)).toMatchObject({ status: 'open', closedAt: null });
  });

  test('C2 priority, category, source and owner are kept and changed; an unknown owner answers 422', async () => {
    const p = await pipeline();
    const owner = await createStaff(t);
    const tk = await ticket(p.id, { description: 'Smoke', priority: 'high', category: '  Billing ', source: 'phone', ownerId: owner.id });
    expect(tk).toMatchObject({ description: 'Smoke', priority: 'high', category: 'Billing', source: 'phone', ownerId: owner.id });
    const changed = await patch(tk.id, { priority: 'urgent', category: '', ownerId: null });
    expect(changed.json()).toMatchObject({ priority: 'urgent', category: null, ownerId: null, source: 'phone' });

    const before = await rowCounts(t);
    const noOwner = await call('POST', '/api/v1/tickets', { subject: 'x', pipelineId: p.id, ownerId: 2_000_000_000 });
    expect(noOwner.statusCode).toBe(422);
    expect(noOwner.json<Problem>().code).toBe('OWNER_NOT_FOUND');
    expect((await call('POST', '/api/v1/tickets', { subject: 'x', pipelineId: p.id, priority: 'whenever' })).statusCode).toBe(400);
    expect(await rowCounts(t)).toEqual(before);
  });

  async function properties() {
    const key = (name: string) => `${name}_${unique().replace(/-/g, '_')}`;
    const defs = {
      text: key('text'), number: key('number'), boolean: key('flag'), date: key('date'), enumeration: key('tier'),
    };
    for (const [type, k] of Object.entries(defs)) {
      await created('/api/v1/ticket-properties', {
        key: k, label: type, type, ...(type === 'enumeration' ? { options: [{ value: 'gold', label: 'Gold' }, { value: 'silver', label: 'Silver' }] } : {}),
      });
    }
    return defs;
  }

  test('C2 custom properties keep typed values; null clears one', async () => {
    const p = await pipeline();
    const k = await properties();
    const values = { [k.text]: 'VIP', [k.number]: 12.5, [k.boolean]: false, [k.date]: '2024-02-29', [k.enumeration]: 'gold' };
    const tk = await ticket(p.id, { properties: values });
    expect(tk.properties).toEqual(values);
    const changed = await patch(tk.id, { properties: { [k.number]: 0, [k.text]: null } });
    expect(changed.statusCode).toBe(200);
    const expected = Object.fromEntries(Object.entries({ ...values, [k.number]: 0 }).filter(([key]) => key !== k.text));
    expect(changed.json<Ticket>().properties).toEqual(expected);
    expect((await getTicket(tk.id)).properties).toEqual(expected);
  });

  test('C2 wrong types, unknown keys and values outside the options answer 422 INVALID_PROPERTY_VALUE and write nothing', async () => {
    const p = await pipeline();
    const k = await properties();
    const tk = await ticket(p.id, { properties: { [k.text]: 'kept', [k.enumeration]: 'silver' } });
    const bad: [string, unknown][] = [
      [k.text, 5], [k.number, '5'], [k.boolean, 'true'], [k.date, '28.02.2026'], [k.date, '2026-02-30'], [k.date, '2026-13-01'],
      [k.enumeration, 'platinum'], [k.enumeration, 'Gold'], ['no_such_property', 'x'],
    ];
    const before = await rowCounts(t);
    for (const [key, value] of bad) {
      const label = `${key}=${JSON.stringify(value)}`;
      const res = await call('POST', '/api/v1/tickets', { subject: 'x', pipelineId: p.id, properties: { [k.text]: 'fine', [key]: value } });
      expect(res.statusCode, label).toBe(422);
      expect(res.json<Problem>(), label).toMatchObject({ code: 'INVALID_PROPERTY_VALUE', errors: [{ path: `/body/properties/${key}` }] });
      const changed = await patch(tk.id, { subject: 'changed', properties: { [k.text]: 'changed', [key]: value } });
      expect(changed.statusCode, label).toBe(422);
    }
    expect(await rowCounts(t)).toEqual(before);
    expect(await getTicket(tk.id)).toEqual(tk);
  });

  test("C2 a ticket associated with a contact also gets the contact's primary company", async () => {
    const p = await pipeline();
    const [co, other] = [await company(), await company()];
    const person = await contact({ primaryCompanyId: co.id, companyIds: [other.id] });
    expect(await ticket(p.id, { contactIds: [person.id] })).toMatchObject({ contactIds: [person.id], companyIds: [co.id] });
    expect(await ticket(p.id, { contactIds: [person.id], companyIds: [other.id] })).toMatchObject({ companyIds: [other.id] });
    const unknown = await call('POST', '/api/v1/tickets', { subject: 'x', pipelineId: p.id, contactIds: [2_000_000_000] });
    expect(unknown.json<Problem>().code).toBe('CONTACT_NOT_FOUND');
  });

  test("C2 C5 a contact's tickets come newest activity first; a staff message on an older ticket's thread moves it to the top", async () => {
    const p = await pipeline();
    const co = await company();
    const person = await contact({ primaryCompanyId: co.id });
    const made: Ticket[] = [];
    for (let i = 0; i < 3; i++) {
      made.push(await ticket(p.id, { contactIds: [person.id] }));
      t.clock.advance(60_000);
    }
    const [oldest, middle, newest] = made as [Ticket, Ticket, Ticket];
    expect(await idsOf(`contactId=${person.id}`)).toEqual([newest.id, middle.id, oldest.id]);
    expect(await idsOf(`companyId=${co.id}`)).toEqual([newest.id, middle.id, oldest.id]);

    const inbox = await created<{ id: number }>('/api/v1/inboxes', { name: unique('Support') });
    const thread = await created<{ id: number }>('/api/v1/threads', { inboxId: inbox.id, ticketId: oldest.id, subject: 'About the printer' });
    t.clock.advance(60_000);
    await created(`/api/v1/threads/${thread.id}/messages`, { bodyText: 'We are on it.' });
    expect(await getTicket(oldest.id)).toMatchObject({ lastActivityAt: now(), createdAt: oldest.createdAt });
    expect(await idsOf(`contactId=${person.id}`)).toEqual([oldest.id, newest.id, middle.id]);
    expect(await idsOf(`companyId=${co.id}`)).toEqual([oldest.id, newest.id, middle.id]);
    expect(await idsOf(`contactId=${person.id}&sort=createdAt`)).toEqual([oldest.id, middle.id, newest.id]);
  });

  test('C2 tickets filter by status, pipeline, stage, owner, priority and company', async () => {
    const [p, q] = [await pipeline(), await pipeline()];
    const owner = await createStaff(t);
    const co = await company();
    const a = await ticket(p.id, { priority: 'high', ownerId: owner.id });
    const b = await ticket(p.id, { stageId: stageOf(p, 'Waiting').id, priority: 'low', companyIds: [co.id] });
    const c = await ticket(p.id, { stageId: stageOf(p, 'Solved').id, priority: 'high', ownerId: owner.id, companyIds: [co.id] });
    const d = await ticket(q.id, { ownerId: owner.id });
    const sorted = async (query: string) => (await idsOf(query)).sort((x, y) => x - y);
    expect(await sorted(`pipelineId=${p.id}`)).toEqual([a.id, b.id, c.id]);
    expect(await sorted(`pipelineId=${p.id}&status=open`)).toEqual([a.id, b.id]);
    expect(await sorted(`pipelineId=${p.id}&status=closed`)).toEqual([c.id]);
    expect(await sorted(`stageId=${stageOf(p, 'Waiting').id}`)).toEqual([b.id]);
    expect(await sorted(`ownerId=${owner.id}`)).toEqual([a.id, c.id, d.id]);
    expect(await sorted(`ownerId=${owner.id}&pipelineId=${p.id}&priority=high`)).toEqual([a.id, c.id]);
    expect(await sorted(`companyId=${co.id}`)).toEqual([b.id, c.id]);
    expect(await sorted(`companyId=${co.id}&status=open`)).toEqual([b.id]);
    expect((await call('GET', '/api/v1/tickets?status=pending')).statusCode).toBe(400);
  });

  test("C2 cursor pagination over a contact's tickets returns every ticket once, in every sort", async () => {
    const p = await pipeline();
    const person = await contact();
    const made: number[] = [];
    for (let i = 0; i < 7; i++) {
      made.push((await ticket(p.id, { contactIds: [person.id] })).id);
      if (i % 3 === 0) t.clock.advance(1000);
    }
    for (const sort of ['-lastActivityAt', 'lastActivityAt', '-createdAt', 'createdAt']) {
      const whole = await idsOf(`contactId=${person.id}&sort=${sort}`);
      expect([...whole].sort((x, y) => x - y)).toEqual(made);
      for (const limit of [1, 2, 3]) {
        expect((await walk(`contactId=${person.id}&sort=${sort}`, limit)).map((x) => x.id), `${sort} by ${limit}`).toEqual(whole);
      }
    }
    const page = await call('GET', `/api/v1/tickets?contactId=${person.id}&limit=2`);
    const cursor = page.json<Page<Ticket>>().nextCursor!;
    const forged = Buffer.from(JSON.stringify(['-lastActivityAt', 'yesterday', 1])).toString('base64url');
    for (const [sort, raw] of [['createdAt', cursor], ['-lastActivityAt', forged]]) {
      const res = await call('GET', `/api/v1/tickets?contactId=${person.id}&sort=${sort}&cursor=${raw}`);
      expect(res.statusCode).toBe(400);
      expect(res.json<Problem>().code).toBe('BAD_CURSOR');
    }
  });

  test("C2 C5 a ticket's timeline shows ticket_created and stage_changed engagements, newest first", async () => {
    const p = await pipeline();
    const person = await contact();
    const tk = await ticket(p.id, { contactIds: [person.id] });
    t.clock.advance(1000);
    await patch(tk.id, { stageId: stageOf(p, 'Waiting').id });
    t.clock.advance(1000);
    await patch(tk.id, { priority: 'low' });
    await patch(tk.id, { stageId: stageOf(p, 'Solved').id });
    const timeline = async (url: string) => (await call('GET', url)).json<Page<Engagement>>().items.map((e) => [e.type, e.ticketId]);
    const expected = [['stage_changed', tk.id], ['stage_changed', tk.id], ['ticket_created', tk.id]];
    expect(await timeline(`/api/v1/tickets/${tk.id}/timeline`)).toEqual(expected);
    expect(await timeline(`/api/v1/contacts/${person.id}/timeline`)).toEqual(expected);
    expect((await call('GET', '/api/v1/tickets/2000000000/timeline')).statusCode).toBe(404);
  });
});
