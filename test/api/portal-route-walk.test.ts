import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects, rowCounts, unique, type TestApp } from '../helpers/test-app.js';
import { cookiesOf, csrfOf } from '../helpers/portal-forms.js';

/**
 * The access rule, walked over every portal route that takes a ticket or attachment id: what a
 * member may not see answers exactly like what does not exist (same status, headers and body),
 * and a refused write changes nothing. The list of routes comes from the app's route table, so
 * a new route with an id fails the walk until it is added here.
 */

interface Session {
  host: string;
  slug: string;
  cookie: string;
  csrf: string;
}

type Kind = 'ticket' | 'attachment';

interface Walker {
  kind: Kind;
  /** What the member's own visible ticket or attachment answers. */
  ok: number;
  call(t: TestApp, s: Session, id: number): Promise<LightMyRequestResponse>;
}

/** A multipart reply: the session's CSRF token first, then text and one file. */
function replyBody(csrf: string) {
  const boundary = `----portico${unique('b')}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${csrf}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\nLet me in\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="probe.txt"\r\nContent-Type: text/plain\r\n\r\nprobe bytes\r\n`),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { payload, contentType: `multipart/form-data; boundary=${boundary}` };
}

const fetch = (method: 'GET' | 'HEAD', path: (s: Session, id: number) => string) =>
  (t: TestApp, s: Session, id: number) => t.app.inject({ method, url: path(s, id), headers: { host: s.host, cookie: s.cookie } });

/** Every portal route with an id in its path, by `METHOD url` as the route table names it. */
const WALKERS: Record<string, Walker> = {
  'GET /:slug/:id(^\\d+$)': { kind: 'ticket', ok: 200, call: fetch('GET', (s, id) => `/${s.slug}/${id}`) },
  'HEAD /:slug/:id(^\\d+$)': { kind: 'ticket', ok: 200, call: fetch('HEAD', (s, id) => `/${s.slug}/${id}`) },
  'POST /:slug/:id(^\\d+$)/reply': {
    kind: 'ticket',
    ok: 303,
    call: (t, s, id) => {
      const body = replyBody(s.csrf);
      return t.app.inject({ method: 'POST', url: `/${s.slug}/${id}/reply`, headers: { host: s.host, cookie: s.cookie, 'content-type': body.contentType }, payload: body.payload });
    },
  },
  'GET /:slug/attachments/:attachmentId(^\\d+$)': { kind: 'attachment', ok: 200, call: fetch('GET', (s, id) => `/${s.slug}/attachments/${id}`) },
  'HEAD /:slug/attachments/:attachmentId(^\\d+$)': { kind: 'attachment', ok: 200, call: fetch('HEAD', (s, id) => `/${s.slug}/attachments/${id}`) },
};

/** An id no row will ever have in these tests: the largest the routes accept. */
const MISSING = 2_147_483_647;



/** Everything an answer tells the caller, less what differs on every request. */
function observable(res: LightMyRequestResponse) {
  const headers: Record<string, unknown> = { ...res.headers };
  delete headers['x-request-id'];
  delete headers.date;
  return { status: res.statusCode, headers, body: res.body };
}

describe.each(dialects)('the portal route walk on %s', (dialect) => {
  let t: TestApp;
  const PASSWORD = 'customer password 123';
  /** Tickets and attachments by name, and the sessions of Alice on each portal. */
  const ids: Record<string, number> = {};
  const sessions: Record<'contactScope' | 'companyScope' | 'billingPortal', Session> = {} as never;

  async function signIn(host: string, slug: string, email: string): Promise<Session> {
    const ip = `10.7.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const page = await t.app.inject({ method: 'GET', url: `/${slug}/sign-in`, headers: { host }, remoteAddress: ip });
    const form = cookiesOf(page).portico_form!;
    const res = await t.app.inject({
      method: 'POST', url: `/${slug}/sign-in`, remoteAddress: ip,
      headers: { host, cookie: `portico_form=${form}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, password: PASSWORD, csrf: csrfOf(page.body), next: `/${slug}` }).toString(),
    });
    expect(res.statusCode, res.body).toBe(303);
    const cookie = `portico_member=${cookiesOf(res).portico_member!}`;
    const list = await t.app.inject({ method: 'GET', url: `/${slug}`, headers: { host, cookie } });
    expect(list.statusCode).toBe(200);
    return { host, slug, cookie, csrf: csrfOf(list.body) };
  }

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const s = t.app.services;
    const staffId = (await createStaff(t)).id;
    const acme = await s.companies.create({ name: unique('Acme') });
    const globex = await s.companies.create({ name: unique('Globex') });
    const person = async (name: string, companyId: number) => s.contacts.create({ email: `${unique(name)}@example.com`, firstName: name, primaryCompanyId: companyId });
    const alice = await person('alice', acme.id);
    const bob = await person('bob', acme.id);
    const carol = await person('carol', globex.id);
    const support = await s.pipelines.create({ name: unique('Support'), stages: [{ name: 'Open', state: 'open' }, { name: 'Done', state: 'closed' }] });
    const billing = await s.pipelines.create({ name: unique('Billing'), stages: [{ name: 'Open', state: 'open' }] });
    const internal = unique('internal').toLowerCase().replace(/[^a-z0-9]/g, '_');
    await s.pipelines.createProperty({ key: internal, label: 'Internal', type: 'boolean' });
    const inbox = await s.inboxes.create(unique('Inbox'));

    const ticket = async (input: { contactIds?: number[]; companyIds?: number[]; pipelineId?: number; properties?: Record<string, boolean> }) =>
      (await s.tickets.create({ subject: unique('Ticket'), pipelineId: input.pipelineId ?? support.pipeline.id, ...input }, null)).id;
    /** A thread on the ticket whose message (or internal comment) carries one file; returns the file's id. */
    const fileOn = async (ticketId: number, kind: 'message' | 'comment' = 'message', threadId?: number) => {
      const thread = threadId ?? (await s.conversations.createThread({ inboxId: inbox.inbox.id, ticketId, subject: unique('thread') }, { type: 'system' })).id;
      const file = await s.conversations.upload(Readable.from([Buffer.from(unique('bytes'))]), `${unique('file')}.txt`, 'text/plain', staffId);
      await s.conversations.addMessage({ threadId: thread, kind, author: { type: 'staff', staffUserId: staffId }, bodyText: `a ${kind}`, attachmentIds: [file.id] });
      return { file: file.id, thread };
    };

    // Alice's own ticket: an older thread, then the newest with a visible file and an internal comment's file.
    ids.own = await ticket({ contactIds: [alice.id] });
    ids.olderThreadFile = (await fileOn(ids.own)).file;
    t.clock.advance(1000);
    const newest = await fileOn(ids.own);
    ids.ownFile = newest.file;
    ids.commentFile = (await fileOn(ids.own, 'comment', newest.thread)).file;
    // An upload never attached to any message.
    ids.unattachedFile = (await s.conversations.upload(Readable.from([Buffer.from('loose')]), 'loose.txt', 'text/plain', staffId)).id;

    ids.colleagues = await ticket({ contactIds: [bob.id] });
    ids.colleaguesFile = (await fileOn(ids.colleagues)).file;
    ids.colleaguesClosed = await ticket({ contactIds: [bob.id] });
    ids.colleaguesClosedFile = (await fileOn(ids.colleaguesClosed)).file;
    await s.tickets.update(ids.colleaguesClosed, { stageId: support.stages[1]!.id }, null);
    // No thread, on a portal without a default inbox: a reply to it would be refused with 409 if it were visible.
    ids.colleaguesBare = await ticket({ contactIds: [bob.id] });
    ids.companyOnly = await ticket({ companyIds: [acme.id] });
    ids.companyOnlyFile = (await fileOn(ids.companyOnly)).file;
    ids.otherCompany = await ticket({ contactIds: [carol.id] });
    ids.otherCompanyFile = (await fileOn(ids.otherCompany)).file;
    ids.excludedByRule = await ticket({ contactIds: [alice.id], properties: { [internal]: true } });
    ids.excludedByRuleFile = (await fileOn(ids.excludedByRule)).file;
    ids.otherPortalOnly = await ticket({ contactIds: [alice.id], pipelineId: billing.pipeline.id });
    ids.otherPortalOnlyFile = (await fileOn(ids.otherPortalOnly)).file;

    const supportRules = [{ property: 'pipelineId', operator: 'is' as const, value: support.pipeline.id }, { property: `properties.${internal}`, operator: 'is_not' as const, value: true }];
    const portal = async (scope: 'contact' | 'company', filters: typeof supportRules) => {
      const host = `${unique('support').toLowerCase()}.example.com`;
      const p = await s.portals.create({ name: unique('Portal'), domain: host, consentText: 'ok', scope, filters });
      await s.portals.update(p.id, { enabled: true });
      await s.portals.createMember(p.id, alice.id, PASSWORD);
      return signIn(host, p.slug, alice.email);
    };
    sessions.contactScope = await portal('contact', supportRules);
    sessions.companyScope = await portal('company', supportRules);
    sessions.billingPortal = await portal('contact', [{ property: 'pipelineId', operator: 'is', value: billing.pipeline.id }]);
  });
  afterAll(async () => {
    await t.close();
  });

  /** What Alice may not reach, per portal: the case, and the names (in `ids`) of its ticket and of a file on it. */
  const HIDDEN: Record<'contactScope' | 'companyScope', { what: string; ticket?: string; attachment?: string }[]> = {
    contactScope: [
      { what: 'another contact’s ticket in the same company (contact scope)', ticket: 'colleagues', attachment: 'colleaguesFile' },
      { what: 'another contact’s closed ticket (a 409 would tell it exists)', ticket: 'colleaguesClosed', attachment: 'colleaguesClosedFile' },
      { what: 'another contact’s ticket without a thread (a 409 NO_DEFAULT_INBOX would tell it exists)', ticket: 'colleaguesBare' },
      { what: 'the own company’s ticket on a contact-scope portal', ticket: 'companyOnly', attachment: 'companyOnlyFile' },
      { what: 'another company’s ticket', ticket: 'otherCompany', attachment: 'otherCompanyFile' },
      { what: 'the own ticket excluded by a filter rule', ticket: 'excludedByRule', attachment: 'excludedByRuleFile' },
      { what: 'the own ticket visible only on another portal', ticket: 'otherPortalOnly', attachment: 'otherPortalOnlyFile' },
      { what: 'a file on an internal comment of a visible ticket', attachment: 'commentFile' },
      { what: 'a file on an older thread of a visible ticket', attachment: 'olderThreadFile' },
      { what: 'an upload not attached to any message', attachment: 'unattachedFile' },
    ],
    companyScope: [
      { what: 'another company’s ticket (company scope)', ticket: 'otherCompany', attachment: 'otherCompanyFile' },
      { what: 'the own ticket excluded by a filter rule', ticket: 'excludedByRule', attachment: 'excludedByRuleFile' },
      { what: 'the own ticket visible only on another portal', ticket: 'otherPortalOnly', attachment: 'otherPortalOnlyFile' },
      { what: 'a file on an internal comment of a visible ticket', attachment: 'commentFile' },
      { what: 'a file on an older thread of a visible ticket', attachment: 'olderThreadFile' },
    ],
  };

  /** Row counts, plus what a reply would touch on rows it does not add: tickets' activity and threads' state. */
  async function snapshot() {
    const db = t.app.deps.db;
    return {
      counts: await rowCounts(t),
      tickets: await db.selectFrom('tickets').select(['id', 'revision', 'last_activity_at', 'updated_at']).orderBy('id').execute(),
      threads: await db.selectFrom('threads').select(['id', 'status', 'last_message_at', 'updated_at']).orderBy('id').execute(),
    };
  }

  const PUBLIC_PARAMS = new Set([':slug', ':token', ':providerId', ':article', ':hash']);
  test('P18 P17 the walk covers every portal route that takes an id, and nothing else', () => {
    const withId = t.app.routeTable
      .filter((r) => r.access === 'member' || r.access === 'portal')
      // Emailed links (:token) name no record; test/api/account-links.test.ts walks them. Identity
      // providers (:providerId) are sign-in endpoints; test/api/sso-*.test.ts walk them. Knowledge
      // base articles (:article) are public; test/api/kb.test.ts proves drafts answer 404. A portal's
      // logo (:hash) is public on its host; test/api/staff-app.test.ts proves another hash is a 404.
      // Staff preview links (:token) are walked there too.
      .filter((r) => (r.url.match(/:[A-Za-z]+/g) ?? []).some((param) => !PUBLIC_PARAMS.has(param)))
      .map((r) => `${r.method} ${r.url}`);
    expect([...new Set(withId)].sort()).toEqual(Object.keys(WALKERS).sort());
    // A route with an id that anyone could reach before signing in would skip the access rule.
    expect(t.app.routeTable.filter((r) => r.access === 'portal' && `${r.method} ${r.url}` in WALKERS)).toEqual([]);
  });

  test('P18 P19 P15 the fixture means what it says: the hidden tickets are visible where they should be', async () => {
    const get = (s: Session, id: number) => WALKERS['GET /:slug/:id(^\\d+$)']!.call(t, s, id);
    // Company scope opens the colleagues' and the company's tickets that contact scope hides.
    for (const name of ['own', 'colleagues', 'companyOnly']) expect((await get(sessions.companyScope, ids[name]!)).statusCode, name).toBe(200);
    // The ticket hidden by the other portals' rules is Alice's on the billing portal.
    expect((await get(sessions.billingPortal, ids.otherPortalOnly!)).statusCode).toBe(200);
    const file = await WALKERS['GET /:slug/attachments/:attachmentId(^\\d+$)']!.call(t, sessions.billingPortal, ids.otherPortalOnlyFile!);
    expect(file.statusCode).toBe(200);
  });

  test.each(Object.keys(WALKERS))('P18 P19 P15 P17 P16 P36 %s: a hidden ticket or attachment answers exactly like a missing one and changes nothing; the own one answers', async (route) => {
    const walker = WALKERS[route]!;
    for (const scope of ['contactScope', 'companyScope'] as const) {
      const session = sessions[scope];
      const before = await snapshot();
      const missing = await walker.call(t, session, MISSING);
      expect(missing.statusCode, `${scope} missing`).toBe(404);
      expect(await snapshot(), `${scope} missing`).toEqual(before);
      const cases = HIDDEN[scope].filter((c) => (walker.kind === 'ticket' ? c.ticket : c.attachment) !== undefined);
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) {
        const id = ids[(walker.kind === 'ticket' ? c.ticket : c.attachment)!]!;
        const res = await walker.call(t, session, id);
        expect(observable(res), `${scope}: ${c.what}`).toEqual(observable(missing));
        expect(await snapshot(), `${scope}: ${c.what} changed the database`).toEqual(before);
      }
      // The positive control: the same request on what Alice may see goes through.
      const own = await walker.call(t, session, ids[walker.kind === 'ticket' ? 'own' : 'ownFile']!);
      expect(own.statusCode, `${scope}: own ${walker.kind}`).toBe(walker.ok);
    }
  });
});
