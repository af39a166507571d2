import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_PASSWORD, isDemoSeeded, seedDemo } from '../../src/demo/seed.js';
import { createTestApp, dialects, type TestApp } from '../helpers/test-app.js';

describe.each(dialects)('the demo data on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  test('C1 C2 C3 C4 C5 the demo holds what the README promises, and its staff can sign in', async () => {
    expect(await isDemoSeeded(t.app.deps.db)).toBe(false);
    await seedDemo(t.app.deps);
    expect(await isDemoSeeded(t.app.deps.db)).toBe(true);
    const db = t.app.deps.db;
    const count = async (table: 'staff_users' | 'companies' | 'contacts' | 'pipelines' | 'tickets' | 'inboxes' | 'contact_lists') =>
      (await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    expect({
      staff: await count('staff_users'), companies: await count('companies'), contacts: await count('contacts'), pipelines: await count('pipelines'),
      tickets: await count('tickets'), inboxes: await count('inboxes'), lists: await count('contact_lists'),
    }).toEqual({ staff: 2, companies: 3, contacts: 6, pipelines: 2, tickets: 7, inboxes: 2, lists: 2 });
    const comments = await db.selectFrom('messages').select('id').where('kind', '=', 'comment').execute();
    expect(comments.length).toBeGreaterThanOrEqual(3);
    const closed = await db.selectFrom('tickets').select('id').where('is_closed', '=', 1).execute();
    expect(closed.length).toBe(2);
    const active = await db.selectFrom('contact_lists').select('id').where('kind', '=', 'active').executeTakeFirstOrThrow();
    expect((await db.selectFrom('list_members').select('contact_id').where('list_id', '=', active.id).execute()).length).toBe(3);

    const portal = await db.selectFrom('portals').selectAll().executeTakeFirstOrThrow();
    expect(portal).toMatchObject({ domain: 'portal.localhost', enabled: 1, scope: 'company' });
    expect((await db.selectFrom('members').select('id').execute()).length).toBe(3);
    for (const email of ['admin@example.com', 'agent@example.com']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email, password: DEMO_PASSWORD } });
      expect(res.statusCode).toBe(200);
    }

    // C6 a staff reply in the demo names an address the built-in listener takes, so answering it
    // by mail (with SMTP_LISTEN_PORT set) lands in the thread.
    const thread = await db.selectFrom('threads').select(['id']).where('contact_id', 'is not', null).orderBy('id').executeTakeFirstOrThrow();
    const admin = (await db.selectFrom('staff_users').select('id').where('email', '=', 'admin@example.com').executeTakeFirstOrThrow()).id;
    await t.app.services.conversations.addMessage({ threadId: thread.id, kind: 'message', author: { type: 'staff', staffUserId: admin }, bodyText: 'We are on it.' });
    const sent = await db.selectFrom('outbox').select(['reply_to_address']).where('kind', '=', 'thread.reply').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(sent.reply_to_address).not.toBeNull();
    expect(await t.app.services.inbound.channelFor(sent.reply_to_address!)).toBeDefined();
  });
});
