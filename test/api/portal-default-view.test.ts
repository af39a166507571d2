import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeCursor, pickSort, toPage, type Cursor } from '../../src/http/pagination.js';
import { AccessService, hasOrganizationView, PORTAL_SORTS, type View, type Viewer } from '../../src/modules/access/access.service.js';
import type { ConditionT } from '../../src/modules/filters/filters.js';
import { setLastActivity } from '../../src/modules/tickets/tickets.repository.js';
import { createTestApp, dialects, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, postPortalForm } from '../helpers/portal-forms.js';

/** A ticket as the test made it, to say what each list should hold. */
interface Made {
  id: number;
  contacts: string[];
  companies: string[];
  words: string[];
  closed: boolean;
  /** Fails the portal's filter rule (another pipeline) or is held: no one may list it. */
  hidden: boolean;
  createdAt: number;
  lastActivityAt: number;
}

const WORDS = ['alpha', 'beta', 'gamma'] as const;
const SORTS = ['lastActivity', '-lastActivity', 'created', '-created'] as const;

describe.each(dialects)('the portal list’s default view on %s', (dialect) => {
  let t: TestApp;
  const made: Made[] = [];
  const contacts: Record<string, number> = {};
  const companies: Record<string, number> = {};
  const members: Record<string, number> = {};
  let portalId = 0;
  let filters: ConditionT[] = [];
  const PASSWORD = 'customer password 123';
  let host = '';
  let slug = '';
  let noraEmail = '';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const s = t.app.services;
    for (const name of ['acme', 'globex', 'initech']) companies[name] = (await s.companies.create({ name: unique(name) })).id;
    const primary: Record<string, string | null> = { alice: 'acme', bob: 'acme', carol: 'globex', nora: null };
    for (const [name, company] of Object.entries(primary)) {
      const email = `${unique(name)}@example.com`;
      if (name === 'nora') noraEmail = email;
      contacts[name] = (await s.contacts.create({ email, ...(company === null ? {} : { primaryCompanyId: companies[company] }) })).id;
    }
    const support = await s.pipelines.create({ name: unique('Support'), stages: [{ name: 'Open', state: 'open' }, { name: 'Done', state: 'closed' }] });
    const billing = await s.pipelines.create({ name: unique('Billing'), stages: [{ name: 'Open', state: 'open' }] });
    filters = [{ property: 'pipelineId', operator: 'is', value: support.pipeline.id }];
    host = `${unique('help').toLowerCase()}.example.com`;
    const portal = await s.portals.create({ name: unique('Portal'), scope: 'company', filters, domain: host, consentText: 'ok' });
    portalId = portal.id;
    slug = portal.slug;
    await s.portals.update(portalId, { enabled: true });
    for (const name of ['alice', 'carol', 'nora']) members[name] = (await s.portals.createMember(portalId, contacts[name]!, PASSWORD)).id;

    // Whose tickets, in turn: the member's own with no company, with a second company, with
    // their own company; a colleague's; another company's; the company's without a contact;
    // Nora's (no primary company) alone and with a company she does not belong to.
    const kinds: [string[], string[]][] = [
      [['alice'], []], [['alice'], ['globex']], [['alice'], ['acme']], [['bob'], ['acme']],
      [['carol'], ['globex']], [[], ['acme']], [['nora'], []], [['nora'], ['initech']], [[], ['initech']],
    ];
    // A small generator of its own, so every run builds the same interleaving.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 66; i += 1) {
      const [who, where] = kinds[i % kinds.length]!;
      const words = WORDS.filter((_, w) => next(3) === 0 || (i + w) % 5 === 0);
      const closed = next(4) === 0;
      const inBilling = next(11) === 0;
      const held = !inBilling && next(13) === 0;
      // Ties on creation (the clock stands still now and then) and on last activity (few values).
      if (next(3) !== 0) t.clock.advance(1000);
      const ticket = await s.tickets.create({
        subject: `Case ${i} ${words.join(' ')}`,
        pipelineId: inBilling ? billing.pipeline.id : support.pipeline.id,
        ...(closed && !inBilling ? { stageId: support.stages[1]!.id } : {}),
        contactIds: who.map((c) => contacts[c]!),
        companyIds: where.map((c) => companies[c]!),
        held,
      }, null);
      const lastActivityAt = Date.UTC(2026, 0, 1) + next(20) * 60_000;
      await setLastActivity(t.app.deps.db, ticket.id, lastActivityAt);
      made.push({ id: ticket.id, contacts: who, companies: where, words, closed: closed && !inBilling, hidden: inBilling || held, createdAt: ticket.created_at, lastActivityAt });
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const viewer = (name: string): Viewer => ({
    portalId, memberId: members[name]!, contactId: contacts[name]!,
    known: { filters, filtersText: JSON.stringify(filters), primaryCompanyId: name === 'alice' ? companies.acme! : name === 'carol' ? companies.globex! : null },
  });
  const primaryOf: Record<string, string | null> = { alice: 'acme', carol: 'globex', nora: null };

  /** What a list should hold, in its order: the model of the rule, not the query. */
  function expected(name: string, view: View, sortName: string, status?: 'open' | 'closed', search?: string): number[] {
    const company = primaryOf[name];
    const terms = search === undefined ? [] : search.split(' ');
    const rows = made.filter((m) => !m.hidden
      && (m.contacts.includes(name) || (view === 'organization' && company !== null && company !== undefined && m.companies.includes(company)))
      && (status === undefined || m.closed === (status === 'closed'))
      && terms.every((term, i) => m.words.some((w) => (i === terms.length - 1 ? w.startsWith(term) : w === term))));
    const desc = sortName.startsWith('-');
    const value = (m: Made) => (sortName.endsWith('created') ? m.createdAt : m.lastActivityAt);
    return rows.sort((a, b) => (desc ? -1 : 1) * (value(a) - value(b) || a.id - b.id)).map((m) => m.id);
  }

  /** Every page of a list, cursor after cursor, as the portal's list pages through it. */
  async function pageThrough(access: AccessService, v: Viewer, view: View, sortName: string, limit: number, more: { status?: 'open' | 'closed'; search?: string } = {}): Promise<number[]> {
    const sort = pickSort(sortName, '-lastActivity', PORTAL_SORTS, 'a.ticket_id');
    const ids: number[] = [];
    let cursor: Cursor | undefined;
    for (let pages = 0; pages < 200; pages += 1) {
      const rows = await access.listVisible(v, { view, sort, limit, ...more, ...(cursor === undefined ? {} : { cursor }) });
      // Every row carries the sort value its cursor is made of.
      for (const r of rows) expect(r.sortValue).toBe(sortName.endsWith('created') ? r.created_at : r.last_activity_at);
      const page = toPage(rows, limit, sort, (r) => ({ value: r.sortValue, id: r.id }));
      ids.push(...page.rows.map((r) => r.id));
      if (page.nextCursor === null) return ids;
      cursor = decodeCursor(sort, page.nextCursor);
    }
    throw new Error('the list did not end');
  }

  test('P19 P18 a member without a company has no organization view: it lists their own tickets', async () => {
    const nora = viewer('nora');
    expect(hasOrganizationView(nora)).toBe(false);
    expect(hasOrganizationView(viewer('alice'))).toBe(true);
    const own = expected('nora', 'mine', '-lastActivity');
    expect(own.length).toBeGreaterThan(3);
    const sort = pickSort(undefined, '-lastActivity', PORTAL_SORTS, 'a.ticket_id');
    for (const view of ['organization', 'mine'] as const) {
      expect((await t.app.services.access.listVisible(nora, { view, sort, limit: 100 })).map((r) => r.id)).toEqual(own);
    }
    // Without what the session read, the same from the database.
    const { known: _known, ...bare } = nora;
    expect((await t.app.services.access.listVisible(bare, { view: 'organization', sort, limit: 100 })).map((r) => r.id)).toEqual(own);
    // Nothing of the company on one of her tickets that is not hers.
    const initechOnly = made.filter((m) => m.contacts.length === 0 && m.companies.includes('initech')).map((m) => m.id);
    expect(own.filter((id) => initechOnly.includes(id))).toEqual([]);
  });

  test('P19 P18 the organization view holds the member’s own tickets (none, or a second company) and the company’s, in one order', async () => {
    const sort = pickSort(undefined, '-lastActivity', PORTAL_SORTS, 'a.ticket_id');
    const org = (await t.app.services.access.listVisible(viewer('alice'), { view: 'organization', sort, limit: 100 })).map((r) => r.id);
    expect(org).toEqual(expected('alice', 'organization', '-lastActivity'));
    const ownNoCompany = made.filter((m) => !m.hidden && m.contacts.includes('alice') && m.companies.length === 0);
    const ownSecondCompany = made.filter((m) => !m.hidden && m.contacts.includes('alice') && m.companies.includes('globex'));
    const companyOnly = made.filter((m) => !m.hidden && !m.contacts.includes('alice') && m.companies.includes('acme'));
    for (const group of [ownNoCompany, ownSecondCompany, companyOnly]) {
      expect(group.length).toBeGreaterThan(0);
      for (const m of group) expect(org).toContain(m.id);
    }
    const mine = (await t.app.services.access.listVisible(viewer('alice'), { view: 'mine', sort, limit: 100 })).map((r) => r.id);
    expect(mine).toEqual(expected('alice', 'mine', '-lastActivity'));
    // In a transaction (no session read), the same list.
    const { known: _known, ...bare } = viewer('alice');
    const inTx = await t.app.deps.db.transaction().execute(async (tx) => t.app.services.access.listVisible(bare, { view: 'organization', sort, limit: 100 }, tx));
    expect(inTx.map((r) => r.id)).toEqual(org);
  });

  test('P18 P19 nothing another company’s member may not see is listed, and every row passes the access rule', async () => {
    const sort = pickSort(undefined, '-created', PORTAL_SORTS, 'a.ticket_id');
    for (const name of ['alice', 'carol', 'nora']) {
      const v = viewer(name);
      const rows = (await t.app.services.access.listVisible(v, { view: 'organization', sort, limit: 100 })).map((r) => r.id);
      for (const id of rows) expect(await t.app.services.access.findVisibleTicketId(v, id), `${name} may see ${id}`).toBe(id);
      const hers = new Set(rows);
      for (const m of made) {
        const may = !m.hidden && (m.contacts.includes(name) || (primaryOf[name] !== null && m.companies.includes(primaryOf[name]!)));
        if (!may) expect(hers.has(m.id), `${name} must not see ${m.id}`).toBe(false);
      }
    }
    // Carol (Globex) sees Alice's ticket filed under Globex, and none of Acme's or Alice's others.
    const carols = new Set((await t.app.services.access.listVisible(viewer('carol'), { view: 'organization', sort, limit: 100 })).map((r) => r.id));
    expect(made.filter((m) => carols.has(m.id) && m.contacts.includes('alice')).every((m) => m.companies.includes('globex'))).toBe(true);
    expect(made.filter((m) => carols.has(m.id) && m.companies.includes('acme'))).toEqual([]);
  });

  test('P31 P19 paging through the merged list with the cursor yields every ticket once, in order, for each sort and direction', async () => {
    for (const sortName of SORTS) {
      for (const limit of [1, 7, 25]) {
        expect(await pageThrough(t.app.services.access, viewer('alice'), 'organization', sortName, limit), `${sortName} by ${limit}`)
          .toEqual(expected('alice', 'organization', sortName));
      }
    }
  });

  test('P31 P19 any sort, page size, status and words: the paged list is the rule’s, whichever way the search runs', async () => {
    // Walks of 0 (the index's candidates at once), 1 and 3 (walking on, then the candidates) and the default.
    const ways = [t.app.services.access, ...[0, 1, 3].map((walk) => new AccessService(t.app.deps, walk))];
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('alice', 'carol', 'nora'), fc.constantFrom<View>('organization', 'mine'), fc.constantFrom(...SORTS), fc.integer({ min: 1, max: 12 }),
      fc.constantFrom<'open' | 'closed' | undefined>(undefined, 'open', 'closed'), fc.constantFrom<string | undefined>(undefined, 'alpha', 'alp', 'beta gam', 'gamma alpha', 'nothing'),
      fc.integer({ min: 0, max: ways.length - 1 }),
      async (name, view, sortName, limit, status, search, way) => {
        const more = { ...(status === undefined ? {} : { status }), ...(search === undefined ? {} : { search }) };
        expect(await pageThrough(ways[way]!, viewer(name), view, sortName, limit, more)).toEqual(expected(name, view, sortName, status, search));
      },
    ), { numRuns: 60 });
  });

  test('P19 P31 the portal’s list page shows a member without a company their own tickets', async () => {
    const ip = '10.77.1.2';
    const signIn = await postPortalForm(t.app, host, `/${slug}/sign-in`, `/${slug}/sign-in`, { email: noraEmail, password: PASSWORD }, { ip });
    const session = cookiesOf(signIn).portico_member;
    expect(session).toBeDefined();
    const list = await t.app.inject({ method: 'GET', url: `/${slug}/tickets`, headers: { host, cookie: `portico_member=${session!}` }, remoteAddress: ip });
    expect(list.statusCode).toBe(200);
    // No company: no View menu to offer an empty organization view.
    expect(list.body).not.toContain('Organization tickets');
    const newest = expected('nora', 'mine', '-lastActivity').slice(0, 5);
    expect(newest.length).toBeGreaterThan(0);
    for (const id of newest) expect(list.body).toMatch(new RegExp(`Case ${made.findIndex((m) => m.id === id)}(?!\\d)`));
  });
});
