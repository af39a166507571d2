import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, unique, type TestApp, type TestStaff } from '../helpers/test-app.js';

interface View { id: number; name: string; shared: boolean; builtIn: boolean; canChange: boolean; filters: Record<string, unknown>; sort: string | null; columns: string[] | null }

describe.each(dialects)('saved ticket views on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  let settings: TestStaff;
  let agent: TestStaff;
  let other: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await createStaff(t, { role: 'admin' });
    settings = await createStaff(t, { permissions: ['manage_settings'] });
    agent = await createStaff(t);
    other = await createStaff(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (who: TestStaff, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: who.auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  const viewsOf = async (who: TestStaff) => {
    const res = await call(who, 'GET', '/api/v1/ticket-views');
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: View[] }>().items;
  };

  test('C10 every staff member starts with "My open tickets" and "Unassigned", which nobody can change', async () => {
    for (const who of [admin, agent]) {
      const views = await viewsOf(who);
      expect(views.slice(0, 2)).toMatchObject([
        { name: 'My open tickets', shared: true, builtIn: true, canChange: false, filters: { owner: 'me', status: 'open' } },
        { name: 'Unassigned', shared: true, builtIn: true, canChange: false, filters: { owner: 'none', status: 'open' } },
      ]);
    }
    const [mine] = await viewsOf(admin);
    const rename = await call(admin, 'PATCH', `/api/v1/ticket-views/${mine!.id}`, { name: 'Renamed' });
    expect(rename.statusCode).toBe(409);
    expect(rename.json()).toMatchObject({ code: 'VIEW_BUILT_IN' });
    expect((await call(admin, 'DELETE', `/api/v1/ticket-views/${mine!.id}`)).statusCode).toBe(409);
  });

  test('C10 a private view is its owner\'s alone: others neither see, change nor delete it', async () => {
    const name = unique('My urgent');
    const res = await call(agent, 'POST', '/api/v1/ticket-views', { name, filters: { priority: 'urgent', owner: 'me' }, sort: '-createdAt', columns: ['subject', 'priority', 'createdAt'] });
    expect(res.statusCode, res.body).toBe(201);
    const view = res.json<View>();
    expect(view).toMatchObject({ name, shared: false, builtIn: false, canChange: true, filters: { priority: 'urgent', owner: 'me' }, sort: '-createdAt', columns: ['subject', 'priority', 'createdAt'] });
    expect((await viewsOf(agent)).map((v) => v.name)).toContain(name);
    expect((await viewsOf(other)).map((v) => v.name)).not.toContain(name);
    expect((await viewsOf(admin)).map((v) => v.name)).not.toContain(name);
    for (const who of [other, admin]) {
      expect((await call(who, 'PATCH', `/api/v1/ticket-views/${view.id}`, { name: 'mine now' })).statusCode).toBe(404);
      expect((await call(who, 'DELETE', `/api/v1/ticket-views/${view.id}`)).statusCode).toBe(404);
    }
    const changed = await call(agent, 'PATCH', `/api/v1/ticket-views/${view.id}`, { name: `${name} 2`, sort: null, columns: null });
    expect(changed.json()).toMatchObject({ name: `${name} 2`, sort: null, columns: null });
    expect((await call(agent, 'DELETE', `/api/v1/ticket-views/${view.id}`)).statusCode).toBe(204);
    expect((await viewsOf(agent)).map((v) => v.id)).not.toContain(view.id);
  });

  test('C10 C4 shared views are made and changed only by staff with the settings permission, and seen by all', async () => {
    const name = unique('Billing queue');
    const refused = await call(agent, 'POST', '/api/v1/ticket-views', { name, shared: true, filters: { status: 'open' } });
    expect(refused.statusCode).toBe(403);
    const made = await call(settings, 'POST', '/api/v1/ticket-views', { name, shared: true, filters: { status: 'open', owner: 'none' } });
    expect(made.statusCode, made.body).toBe(201);
    const view = made.json<View>();
    const seen = (await viewsOf(agent)).find((v) => v.id === view.id);
    expect(seen).toMatchObject({ name, shared: true, canChange: false });
    expect((await viewsOf(admin)).find((v) => v.id === view.id)).toMatchObject({ canChange: true });
    expect((await call(agent, 'PATCH', `/api/v1/ticket-views/${view.id}`, { name: 'hijacked' })).statusCode).toBe(403);
    expect((await call(agent, 'DELETE', `/api/v1/ticket-views/${view.id}`)).statusCode).toBe(403);
    expect((await call(admin, 'PATCH', `/api/v1/ticket-views/${view.id}`, { filters: { status: 'closed' } })).json()).toMatchObject({ filters: { status: 'closed' } });
    expect((await call(settings, 'DELETE', `/api/v1/ticket-views/${view.id}`)).statusCode).toBe(204);
  });

  test('C10 a view with bad filters, columns or sort is refused with the field named, and nothing is saved', async () => {
    const cases: [unknown, number][] = [
      [{ name: 'x', filters: { owner: 'someone' } }, 400],
      [{ name: 'x', filters: { colour: 'red' } }, 400],
      [{ name: 'x', filters: {}, columns: ['subject', 'secret_column'] }, 400],
      [{ name: 'x', filters: {}, sort: 'priority' }, 400],
      [{ name: '', filters: {} }, 400],
      [{ name: 'x', filters: { conditions: [{ property: 'properties.not_a_property', operator: 'is', value: 'x' }] } }, 422],
    ];
    const before = (await viewsOf(agent)).length;
    for (const [body, status] of cases) {
      const res = await call(agent, 'POST', '/api/v1/ticket-views', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await viewsOf(agent)).length).toBe(before);
    expect((await call(agent, 'PATCH', '/api/v1/ticket-views/99999999', { name: 'x' })).statusCode).toBe(404);
  });

  test('C10 C5 the board: moving a ticket to another stage shows in that stage\'s column at once, never to another pipeline\'s stage', async () => {
    const s = t.app.services;
    const { pipeline, stages } = await s.pipelines.create({ name: unique('Board'), stages: [{ name: 'New', state: 'open' }, { name: 'Doing', state: 'open' }, { name: 'Done', state: 'closed' }] });
    const { stages: elsewhere } = await s.pipelines.create({ name: unique('Other'), stages: [{ name: 'Only', state: 'open' }] });
    const ticket = await s.tickets.create({ subject: 'Card', pipelineId: pipeline.id }, null);
    const column = async (stageId: number) => (await call(agent, 'GET', `/api/v1/tickets?pipelineId=${pipeline.id}&stageId=${stageId}`)).json<{ items: { id: number; status: string }[] }>().items;
    expect((await column(stages[0]!.id)).map((i) => i.id)).toEqual([ticket.id]);
    const moved = await call(agent, 'PATCH', `/api/v1/tickets/${ticket.id}`, { stageId: stages[2]!.id });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(await column(stages[0]!.id)).toEqual([]);
    expect(await column(stages[2]!.id)).toMatchObject([{ id: ticket.id, status: 'closed' }]);
    const wrong = await call(agent, 'PATCH', `/api/v1/tickets/${ticket.id}`, { stageId: elsewhere[0]!.id });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toMatchObject({ code: 'STAGE_NOT_IN_PIPELINE' });
    expect(await column(stages[2]!.id)).toMatchObject([{ id: ticket.id }]);
  });
});
