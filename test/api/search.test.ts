import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pickSort } from '../../src/http/pagination.js';
import { AccessService, PORTAL_SORTS, type Viewer } from '../../src/modules/access/access.service.js';
import { indexMissingTickets } from '../../src/modules/tickets/search-index.js';
import { documentPatterns, parseSearchQuery, searchDocument, tsQuery } from '../../src/util/search-text.js';
import { createStaff, createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';

describe.each(dialects)('ticket search on %s', (dialect) => {
  let t: TestApp;
  let viewer: Viewer;
  let contactId = 0;
  let pipelineId = 0;
  let inboxId = 0;
  let staffId = 0;
  const sort = pickSort(undefined, '-lastActivity', PORTAL_SORTS, 'a.ticket_id');

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const s = t.app.services;
    staffId = (await createStaff(t)).id;
    const company = await s.companies.create({ name: unique('Co') });
    contactId = (await s.contacts.create({ email: `${unique('c')}@example.com`, primaryCompanyId: company.id })).id;
    pipelineId = (await s.pipelines.create({ name: unique('P'), stages: [{ name: 'Open', state: 'open' }] })).pipeline.id;
    inboxId = (await s.inboxes.create(unique('Inbox'))).inbox.id;
    const portal = await s.portals.create({ name: unique('Portal'), scope: 'company', domain: `${unique('s').toLowerCase()}.example.com`, consentText: 'ok' });
    await s.portals.update(portal.id, { enabled: true });
    const member = await s.portals.createMember(portal.id, contactId, undefined);
    viewer = { portalId: portal.id, memberId: member.id, contactId };
  });
  afterAll(async () => {
    await t.close();
  });

  /**
   * Ticket ids the viewer finds. On SQLite, with the walk along the list and with candidates
   * from FTS5 alone, and a page of one (so the walk fills it) as well as a page of many.
   */
  async function find(q: string): Promise<number[]> {
    const ids = async (access: AccessService, limit: number) =>
      (await access.listVisible(viewer, { view: 'mine', sort, limit, search: q })).map((r) => r.id);
    // Walks of 1 and 3 tickets also take the walk-on and saw-it-all branches.
    const ways = [t.app.services.access, ...[0, 1, 3, 1_000_000].map((walk) => new AccessService(t.app.deps, walk))];
    const all = await ids(ways[0]!, 100);
    for (const access of ways) {
      expect(await ids(access, 100), `every way of searching agrees on ${q}`).toEqual(all);
      expect(await ids(access, 1), `every way of searching agrees on the first of ${q}`).toEqual(all.slice(0, 2));
    }
    return all.sort((a, b) => a - b);
  }

  const ticket = async (subject: string) => (await t.app.services.tickets.create({ subject, pipelineId, contactIds: [contactId] }, null)).id;
  const thread = async (ticketId: number, body: string, kind: 'message' | 'comment' = 'message') => {
    t.clock.advance(1000);
    const th = await t.app.services.conversations.createThread({ inboxId, ticketId, subject: 's' }, { type: 'system' });
    await t.app.services.conversations.addMessage({ threadId: th.id, kind, author: kind === 'comment' ? { type: 'staff', staffUserId: staffId } : { type: 'customer', contactId }, bodyText: body });
    return th.id;
  };

  test('P31 words match whole or by their beginning, without regard to case or accents; phrases keep their order; every term must match', async () => {
    const word = unique('w').replace(/\W/g, '');
    const invoice = await ticket(`Invoice ${word} charged twice`);
    const resume = await ticket(`Résumé ${word} upload`);
    const numbers = await ticket(`Order ${word} 2026-114`);
    expect(await find(`invoice ${word}`)).toEqual([invoice]);
    expect(await find(`${word} INVO`)).toEqual([invoice]);
    expect(await find(`${word} resume`)).toEqual([resume]);
    expect(await find(`${word} résumé`)).toEqual([resume]);
    expect(await find(`${word} 2026-114`)).toEqual([numbers]);
    expect(await find(`${word} 114-2026`)).toEqual([]);
    expect(await find(`${word} voice`)).toEqual([]); // inside a word is not a word
    expect(await find(word)).toEqual([invoice, resume, numbers]);
    expect(await find('?! --')).toEqual([]);
  });

  test('P31 P16 P17 search reads the newest thread’s customer-visible messages only, and follows every change to what a ticket shows', async () => {
    const word = unique('k').replace(/\W/g, '');
    const id = await ticket(`Printer ${word}`);
    const first = await thread(id, `old thread says ${word}alpha`);
    expect(await find(`${word}alpha`)).toEqual([id]);
    const second = await thread(id, `new thread says ${word}beta`);
    expect(await find(`${word}alpha`)).toEqual([]); // the older thread no longer shows
    expect(await find(`${word}beta`)).toEqual([id]);
    const third = await thread(id, `internal ${word}gamma`, 'comment');
    expect(await find(`${word}beta`)).toEqual([]); // a thread holding only a comment is the newest now
    expect(await find(`${word}gamma`)).toEqual([]);

    await t.app.services.tickets.update(id, { subject: `Scanner ${word}` }, null);
    expect(await find(`printer ${word}`)).toEqual([]);
    expect(await find(`scanner ${word}`)).toEqual([id]);

    // Moving and deleting threads changes which thread is the newest.
    const other = await ticket(`Other ${word}`);
    await t.app.services.conversations.updateThread(third, { ticketId: other });
    expect(await find(`${word}beta`)).toEqual([id]);
    await t.app.services.conversations.deleteThread(first);
    expect(await find(`${word}beta`)).toEqual([id]);
    await t.app.services.conversations.deleteThread(second);
    expect(await find(`${word}beta`)).toEqual([]);
    expect(await find(`scanner ${word}`)).toEqual([id]);

    await t.app.services.tickets.delete(id);
    expect(await find(`scanner ${word}`)).toEqual([]);
    const left = await t.app.deps.db.selectFrom('ticket_search').select('ticket_id').where('ticket_id', '=', id).execute();
    expect(left).toEqual([]);
    if (dialect === 'sqlite') await sql`insert into ticket_search_fts(ticket_search_fts) values ('integrity-check')`.execute(t.app.deps.db);
  });

  test('P31 tickets written before the index existed are indexed once after the migration', async () => {
    const word = unique('m').replace(/\W/g, '');
    const id = await ticket(`Migrated ${word}`);
    await thread(id, `body ${word}`);
    await t.app.deps.db.deleteFrom('ticket_search').where('ticket_id', '=', id).execute();
    expect(await find(word)).toEqual([]);
    expect(await indexMissingTickets(t.app.deps.db)).toBeGreaterThanOrEqual(1);
    expect(await find(word)).toEqual([id]);
    const doc = await t.app.deps.db.selectFrom('ticket_search').select('doc').where('ticket_id', '=', id).executeTakeFirstOrThrow();
    expect(doc.doc).toBe(searchDocument([`Migrated ${word}`, `body ${word}`]));
  });

  test.runIf(dialect === 'postgres')('P31 PostgreSQL text search and the ticket-by-ticket check agree for any text and query', async () => {
    // PostgreSQL's own parser would split some of these (1e5łódź, a.b@c, x/y): the index must not.
    const piece = fc.constantFrom('inv', 'invoice', 'Résumé', 'resume', 'ß', '2026', '114', '1e5', 'abc123', '123abc', 'x', '履歴書', 'łódź', '-', '.', '/', '@', ':', '&', '|', '!', "'", ' ', '  ', 'e', '5', 'www', 'com', '-1');
    const text = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join(''));
    await fc.assert(fc.asyncProperty(text, text, async (body, q) => {
      const query = parseSearchQuery(q);
      if (query === null) return;
      const doc = searchDocument([body]);
      const { rows } = await sql<{ hit: boolean }>`select portico_search_vector(${doc}) @@ cast(${tsQuery(query)} as tsquery) as hit`.execute(t.app.deps.db);
      expect(rows[0]?.hit, `${q} in ${doc}`).toBe(documentPatterns(query).every((p) => doc.includes(p)));
    }), { numRuns: 400, examples: [['1e5łódź', 'łódź'], ['abc123 1e5', '1e'], ['x-1.5', '1 5']] });
  });
});
