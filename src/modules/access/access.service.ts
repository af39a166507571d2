import { sql, type Expression, type SqlBool } from 'kysely';
import type { Conn } from '../../db/database.js';
import { jsonValue } from '../../db/dialect.js';
import type { Deps } from '../../deps.js';
import { afterCursor, mergeKeyset, orderFor, type Cursor, type SortSpec } from '../../http/pagination.js';
import { PreparedShapes, type Argument } from '../../db/prepared.js';
import { compileConditions, type Catalogue, type ConditionT } from '../filters/filters.js';
import * as pipelinesRepo from '../tickets/pipelines.repository.js';
import { readJsonArray } from '../../util/json.js';
import { documentPatterns, fts5Query, parseSearchQuery, tsQuery, type SearchQuery } from '../../util/search-text.js';
import { customerVisibleMessage } from './customer-visible.js';

const SEARCH_WALK = 1000;
const RARE_QUERIES = 1000;
const RARE_FOR_MS = 60_000;

/** Who is looking: a portal member, as the session knows them. */
export interface Viewer {
  portalId: number;
  memberId: number;
  contactId: number;
  /**
   * The portal's filter rules (parsed, and as stored: the text names the compiled queries' shape)
   * and the contact's primary company, read with the session in this same request (one round
   * trip instead of three). Queries in a transaction read their own.
   */
  known?: { filters: ConditionT[]; filtersText: string; primaryCompanyId: number | null };
}

/** Which of the visible tickets a list shows (P19): the member's own, or those and their company's. */
export type View = 'mine' | 'organization';

/**
 * Whether the viewer has an organization view (P19): a primary company, as the session read it
 * (`known`; without it, false). A member without one has only their own tickets to list, and
 * `listVisible` lists those for "organization" too. Whether the portal offers the view at all
 * is its scope's to say (company).
 */
export function hasOrganizationView(viewer: Viewer): boolean {
  return (viewer.known?.primaryCompanyId ?? null) !== null;
}

export interface ListOptions {
  view: View;
  status?: 'open' | 'closed';
  search?: string;
  sort: SortSpec;
  cursor?: Cursor;
  limit: number;
}

/** A row of the portal's list: the sort key, and what the list shows. */
export interface VisibleTicket {
  id: number;
  sortValue: number;
  subject: string;
  is_closed: number;
  created_at: number;
  last_activity_at: number;
  stage: string;
  /** The stage's name in other languages (JSON, admin-text.ts), or null. */
  stage_translations: string | null;
}

/** Sorts the portal list offers; last activity goes through the association's own copy and index. */
export const PORTAL_SORTS = { lastActivity: 'a.last_activity_at', created: 't.created_at' } as const;

/** A prepared query's arguments, by name (db/prepared.ts). */
type Args = Record<string, Argument>;
const num = (value: Argument | undefined): number => value as number;

/**
 * Which of the tickets associated with the viewer a list reads, the association half of the
 * rule below (its other half, `visibleSql`, then runs on each ticket read):
 * - `mine`: the contact's own (their rows of ticket_contacts);
 * - `company`: the company's (rows of ticket_companies), of the contact's primary company on a
 *   portal in company scope only: that company is read in the same statement, once;
 * - `organization`: both, each ticket once, in one ordered merge of the two indexes (SQLite);
 * - `mineOutsideCompany`: the contact's own that are not the company's, beside a `company`
 *   list (PostgreSQL reads the organization view as these two and merges them: mergeKeyset).
 */
type Source = 'mine' | 'company' | 'organization' | 'mineOutsideCompany';

/** The contact's primary company, where the portal shows company tickets (P18, P19); else null. */
const companyOfViewer = (v: Args) => sql<number>`(select c.primary_company_id from portals ps join contacts c on c.id = ${v.contactId}
                                                   where ps.id = ${v.portalId} and ps.scope = 'company')`;

/** Only the rows after the cursor, on the association's own columns (a list sorted by last activity). */
function afterCursorOf(sort: SortSpec, a: Args): Expression<SqlBool> {
  return afterCursor(sort, { value: num(a.cursorValue), id: num(a.cursorId) });
}

/**
 * Where a portal list starts: the tickets of `source`, aliased `a`, each with its association's
 * own copy of last activity; with `only`, a condition on `a.ticket_id` tested on the index
 * before anything else is read. Sorted by last activity, a list reads its index in order and stops
 * at the page; the organization view merges two such reads. Its merge sits in a subquery whose
 * `limit -1` (no limit) keeps SQLite from pushing the outer conditions into both halves, which
 * would cost the order and read every ticket of the company.
 */
function listBase(db: Conn, a: Args, source: Source, sort: SortSpec, only?: Expression<SqlBool>) {
  const own = db.selectFrom('ticket_contacts as a').where('a.contact_id', '=', num(a.contactId)).$if(only !== undefined, (q) => q.where(only as Expression<SqlBool>));
  const company = db.selectFrom('ticket_companies as a').where('a.company_id', '=', companyOfViewer(a)).$if(only !== undefined, (q) => q.where(only as Expression<SqlBool>));
  if (source === 'mine') return own;
  if (source === 'company') return company;
  // Before anything else is read of a ticket (its search document, the rule): a primary-key
  // probe. A scalar subquery, not NOT EXISTS: PostgreSQL made that an anti join that hashed all
  // 20,000 tickets of the company for each page (3.7 ms, twice per search).
  if (source === 'mineOutsideCompany') return own.where(sql<SqlBool>`(select 1 from ticket_companies x where x.ticket_id = a.ticket_id and x.company_id = ${companyOfViewer(a)}) is null`);
  const inOrder = sort.column.startsWith('a.');
  const cursorHere = inOrder && a.cursorValue !== undefined;
  const ownHalf = own.select(['a.ticket_id', 'a.last_activity_at']).$if(cursorHere, (q) => q.where(afterCursorOf(sort, a)));
  const companyHalf = company.select(['a.ticket_id', 'a.last_activity_at']).$if(cursorHere, (q) => q.where(afterCursorOf(sort, a)));
  const direction = sql.raw(sort.direction);
  let both = ownHalf.union(companyHalf);
  if (inOrder) both = both.orderBy(sql`last_activity_at ${direction}`).orderBy(sql`ticket_id ${direction}`);
  return db.selectFrom(both.limit(sql<number>`-1`).as('a'));
}

const STATIC_TICKET_PROPERTIES = {
  pipelineId: { type: 'id', label: 'Pipeline', choices: 'pipelines', ref: sql.ref('t.pipeline_id') },
  stageId: { type: 'id', label: 'Stage', choices: 'stages', ref: sql.ref('t.stage_id') },
  status: {
    type: 'text', label: 'Status', options: [{ value: 'open', label: 'Open' }, { value: 'closed', label: 'Closed' }],
    ref: sql`(case when ${sql.ref('t.is_closed')} = 1 then 'closed' else 'open' end)`,
  },
  priority: {
    type: 'text', label: 'Priority', options: [{ value: 'low', label: 'Low' }, { value: 'medium', label: 'Medium' }, { value: 'high', label: 'High' }, { value: 'urgent', label: 'Urgent' }],
    ref: sql.ref('t.priority'),
  },
  category: { type: 'text', label: 'Category', ref: sql.ref('t.category') },
  source: {
    type: 'text', label: 'Source',
    options: [{ value: 'email', label: 'Email' }, { value: 'form', label: 'Support form' }, { value: 'chat', label: 'Chat' }, { value: 'portal', label: 'Customer portal' }, { value: 'phone', label: 'Phone' }, { value: 'api', label: 'API' }],
    ref: sql.ref('t.source'),
  },
  ownerId: { type: 'id', label: 'Owner', choices: 'staff', ref: sql.ref('t.owner_id') },
} as const satisfies Catalogue;

/**
 * THE access rule (DESIGN.md): whether a portal member may see a ticket, as one SQL condition
 * on a ticket aliased `t`. Every customer path (list, search, detail, reply, attachment
 * download) goes through it; what fails it answers 404, exactly like what does not exist.
 *
 *   visible(member, t) :=
 *        the portal is enabled and the member is active on it
 *    and t is not held (opened by a mail whose sender could not be verified,
 *        not yet accepted by staff)                                        (C12)
 *    and t meets every filter rule of the portal                          (P15, P17)
 *    and ( t is associated with the member's contact
 *          or ( portal.scope = company
 *               and t is associated with the contact's primary company ) )  (P18, P19)
 *
 * Everything is read in the same query, so a change (a disabled member, a new primary company,
 * an edited rule) holds from the next request on. A list reads only tickets associated with the
 * viewer (`listBase`, by `Source`: the last clause, tested on the association index it reads,
 * and the company it needs read once per statement), so per ticket only the other clauses run
 * (`listed`). For any one ticket (a page, a download) the association tests are scalar
 * subqueries (at most one row each, by primary key), not EXISTS: PostgreSQL turns an OR of
 * EXISTS into hashed subplans and read all 20,000 tickets of a big company into a hash for a
 * page of 25.
 *
 * `v` holds the viewer's values, or a prepared query's stand-ins for them (db/prepared.ts).
 */
function visibleSql(v: Args, rules: Expression<SqlBool>, listed: boolean): Expression<SqlBool> {
  const clauses: Expression<SqlBool>[] = [
    sql<SqlBool>`exists (select 1 from portals p join members m on m.portal_id = p.id
              where p.id = ${v.portalId} and p.enabled = 1
                and m.id = ${v.memberId} and m.contact_id = ${v.contactId} and m.disabled_at is null)`,
    sql<SqlBool>`t.held = 0`,
    rules,
  ];
  if (!listed) {
    clauses.push(sql<SqlBool>`((select 1 from ticket_contacts vc where vc.ticket_id = t.id and vc.contact_id = ${v.contactId}) is not null
           or (select 1 from portals ps
                 join contacts c on c.id = ${v.contactId}
                 join ticket_companies vo on vo.company_id = c.primary_company_id
               where ps.id = ${v.portalId} and ps.scope = 'company' and vo.ticket_id = t.id) is not null)`);
  }
  return sql<SqlBool>`(${sql.join(clauses, sql` and `)})`;
}

/** A portal's filter rules for the rule above: built only when a query is compiled, and the key of their shape. */
interface Rules {
  key: string;
  build: () => Expression<SqlBool>;
}

/** What a ticket's page shows of the ticket itself (a list row's fields), with its newest thread (P16). */
export type VisibleTicketRow = Omit<VisibleTicket, 'sortValue'> & { thread_id: number | null };

const viewerArgs = (viewer: Viewer): Args => ({ portalId: viewer.portalId, memberId: viewer.memberId, contactId: viewer.contactId });

/**
 * The access rule's queries. Each is built and compiled once per shape (which list, sort, filter
 * rules, search plan: `PreparedShapes`) and then run with the viewer's values as parameters.
 */
export class AccessService {
  private readonly prepared = new PreparedShapes();

  constructor(
    private readonly deps: Deps,
    /** How many tickets of a list a search checks one by one before it asks the index for candidates. */
    private readonly searchWalk = SEARCH_WALK,
  ) {}

  /** Ticket properties that portal filter rules may name: the fixed ones, and `properties.<key>` for each custom one. */
  async ticketCatalogue(db: Conn = this.deps.db, withCustom = true): Promise<Catalogue> {
    const catalogue: Catalogue = { ...STATIC_TICKET_PROPERTIES };
    if (!withCustom) return catalogue;
    for (const def of await pipelinesRepo.listProperties(db)) {
      const as = def.type === 'number' ? 'number' : def.type === 'boolean' ? 'flag' : 'text';
      const options = def.type === 'enumeration' ? readJsonArray<{ value: string; label: string }>(def.options) : undefined;
      catalogue[`properties.${def.key}`] = {
        type: def.type === 'number' ? 'number' : def.type === 'boolean' ? 'boolean' : 'text',
        label: def.label,
        ...(options === undefined ? {} : { options }),
        ref: jsonValue(this.deps.dialect, 't.properties', def.key, as),
      };
    }
    return catalogue;
  }

  /**
   * The portal's filter rules as the viewer's session read them (or, in a transaction, as it
   * reads them). Custom property definitions are read only when a rule names one (this runs on
   * every request), and their types join the key: they change the SQL.
   */
  private async rulesOf(db: Conn, viewer: Viewer): Promise<Rules> {
    let filters: ConditionT[];
    let text: string;
    if (viewer.known !== undefined && db === this.deps.db) {
      ({ filters, filtersText: text } = viewer.known);
    } else {
      const portal = await db.selectFrom('portals').select('filters').where('id', '=', viewer.portalId).executeTakeFirst();
      text = portal?.filters ?? '[]';
      filters = readJsonArray<ConditionT>(portal?.filters ?? null);
    }
    if (!filters.some((f) => f.property.startsWith('properties.'))) {
      const catalogue: Catalogue = STATIC_TICKET_PROPERTIES;
      return { key: text, build: () => compileConditions(catalogue, filters) };
    }
    const catalogue = await this.ticketCatalogue(db, true);
    const types = filters.map((f) => `${f.property}:${catalogue[f.property]?.type ?? '?'}`).join(',');
    return { key: `${text} ${types}`, build: () => compileConditions(catalogue, filters) };
  }

  /** The ticket, if the viewer may see it; undefined otherwise, the same as for a missing one. */
  async findVisibleTicketId(viewer: Viewer, ticketId: number, db: Conn = this.deps.db): Promise<number | undefined> {
    return (await this.findVisibleTicket(viewer, ticketId, db))?.id;
  }

  /** What a ticket's page shows of the ticket and which thread is its newest, if the viewer may see it: one statement. */
  async findVisibleTicket(viewer: Viewer, ticketId: number, db: Conn = this.deps.db): Promise<VisibleTicketRow | undefined> {
    const rules = await this.rulesOf(db, viewer);
    const rows = await this.prepared.execute<VisibleTicketRow>(db, `ticket ${rules.key}`, { ...viewerArgs(viewer), ticketId }, (a) =>
      db.selectFrom('tickets as t').innerJoin('stages as st', 'st.id', 't.stage_id')
        .select(['t.id', 't.subject', 't.is_closed', 't.created_at', 't.last_activity_at', 'st.name as stage', 'st.translations as stage_translations',
          sql<number | null>`(select n.id from threads n where n.ticket_id = t.id order by n.created_at desc, n.id desc limit 1)`.as('thread_id')])
        .where('t.id', '=', num(a.ticketId)).where(visibleSql(a, rules.build(), false)));
    return rows[0];
  }

  /**
   * A page of the tickets a viewer may see, for the portal's list (P31, P19). "Mine" is the
   * member's own tickets; "organization" is their own and their primary company's together (a
   * member without a company has no organization view: it lists their own). Each list starts
   * from an association index (the contact's tickets, the company's) and keeps only what passes
   * the access rule, so its cost follows the page, not the table: the organization view reads a
   * page (and one) from each after the same cursor, the same way, and merges the two by the sort
   * (`mergeKeyset`), never sorting the whole company. Search matches words (the last one as a
   * prefix) in the subject and the messages the customer can see: those of the newest thread,
   * never an internal comment.
   *
   * How search runs: no single plan suits every query. Checking ticket by ticket along the list
   * is quick when a page fills soon (a common word) and slow through 20,000 tickets that hold no
   * match; a candidate list from the index (FTS5, or PostgreSQL's GIN) is quick for a rare word
   * and slow for a common one (every match is read; FTS5 reads a prefix whole). Neither planner
   * can tell which case it is in (a word common everywhere may be absent from this company), so
   * on both databases this walks `searchWalk` tickets of the list first, checking their
   * documents, walks further if matches are common but the page is not full yet, and reads the
   * index's candidates only for rare ones; a query found rare goes straight to the candidates
   * for a minute.
   */
  async listVisible(viewer: Viewer, options: ListOptions, db: Conn = this.deps.db): Promise<VisibleTicket[]> {
    const query = options.search === undefined ? undefined : parseSearchQuery(options.search);
    if (query === null) return []; // nothing in it that a document could hold
    const rules = await this.rulesOf(db, viewer);
    const organization = options.view === 'organization' && (viewer.known !== undefined && db === this.deps.db ? viewer.known.primaryCompanyId
      : (await db.selectFrom('contacts').select('primary_company_id').where('id', '=', viewer.contactId).executeTakeFirst())?.primary_company_id ?? null) !== null;
    if (!organization) return this.pageFrom(db, viewer, 'mine', rules, query, options);
    if (this.deps.dialect === 'sqlite') return this.pageFrom(db, viewer, 'organization', rules, query, options);
    // PostgreSQL plans the merged read as a sort of both lists whole; it reads each list up to the
    // page instead, and the two pages merge here. A search leaves out of the member's own those
    // the company's list holds already: a primary-key probe each spares reading their documents
    // (most members have no others). Without words, their own list stops at a page, which is
    // cheaper than probing every one of their tickets.
    const pages = await Promise.all((['mine', 'company'] as const).map((source) =>
      this.pageFrom(db, viewer, source === 'mine' && query !== undefined ? 'mineOutsideCompany' : source, rules, query, options)));
    return mergeKeyset(pages, options.sort, (r) => ({ value: r.sortValue, id: r.id }), options.limit + 1);
  }

  /**
   * The first `limit` + 1 tickets after the cursor of `source` that pass the rule, the status
   * and the search, in the sort's order.
   */
  private async pageFrom(db: Conn, viewer: Viewer, source: Source, rules: Rules, query: SearchQuery | undefined, options: ListOptions): Promise<VisibleTicket[]> {
    const { sort, cursor, limit } = options;
    const args: Args = { ...viewerArgs(viewer), limit: limit + 1 };
    if (options.status !== undefined) args.closed = options.status === 'closed' ? 1 : 0;
    if (cursor !== undefined) {
      args.cursorValue = cursor.value;
      args.cursorId = cursor.id;
    }
    const shape = (plan: string) => `list ${plan} ${source} ${sort.column} ${sort.direction} ${rules.key}`;
    // What the list shows comes with the page, so rendering it needs no second query.
    const selection = ['t.id as id', sql.ref<number>(sort.column).as('sortValue'), 't.subject', 't.is_closed', 't.created_at', 't.last_activity_at',
      'st.name as stage', 'st.translations as stage_translations'] as const;
    const finish = (a: Args, from: ReturnType<typeof listBase>, match: Expression<SqlBool> | undefined) => {
      let r = from.innerJoin('tickets as t', 't.id', 'a.ticket_id').innerJoin('stages as st', 'st.id', 't.stage_id').select(selection);
      // The search before the access rule: it is the cheaper test and fails more often.
      if (match !== undefined) r = r.where(match);
      r = r.where(visibleSql(a, rules.build(), true));
      if (a.closed !== undefined) r = r.where('t.is_closed', '=', num(a.closed));
      if (a.cursorValue !== undefined) r = r.where(afterCursorOf(sort, a));
      for (const o of orderFor(sort)) r = r.orderBy(o);
      return r.limit(num(a.limit));
    };
    if (query === undefined) return this.prepared.execute(db, shape('page'), args, (a) => finish(a, listBase(db, a, source, sort), undefined));
    const pg = this.deps.dialect === 'postgres';
    // Rare in a company's list says nothing of a contact's few tickets, nor one contact's of
    // another's: a contact's list keeps its own memory (else one contact with many tickets sends
    // every colleague's few straight to the index, which reads every match of a common word);
    // a list with the company's tickets shares the company's, which they are nearly all of.
    const key = `${source === 'mine' || source === 'mineOutsideCompany' ? `${source} ${viewer.contactId}` : `company ${viewer.known?.primaryCompanyId ?? `of ${viewer.contactId}`}`} ${fts5Query(query)}`;
    if (sort.column.startsWith('a.') && this.searchWalk > 0 && !this.wasRare(key)) {
      const patterns = documentPatterns(query);
      const walkArgs: Args = { ...args };
      patterns.forEach((p, k) => { walkArgs[`pattern${k}`] = p; });
      // The list's first tickets in its order from where the page starts; each document is
      // joined before the ticket, so the access rule only runs on matches.
      const first = (a: Args) => {
        let f = listBase(db, a, source, sort).select(['a.ticket_id', 'a.last_activity_at']);
        if (a.cursorValue !== undefined) f = f.where(afterCursorOf(sort, a));
        for (const o of orderFor(sort)) f = f.orderBy(o);
        return f.limit(num(a.budget));
      };
      const has = (p: Argument) => (pg ? sql`strpos(s.doc, ${p}) > 0` : sql`instr(s.doc, ${p}) > 0`);
      const walk = (budget: number) => this.prepared.execute<VisibleTicket>(db, shape(`walk ${patterns.length}`), { ...walkArgs, budget }, (a) => {
        const found = sql<SqlBool>`${sql.join(patterns.map((_, k) => has(a[`pattern${k}`] ?? null)), sql` and `)}`;
        const from = db.selectFrom(first(a).as('a')).innerJoin('ticket_search as s', 's.ticket_id', 'a.ticket_id') as unknown as ReturnType<typeof listBase>;
        return finish(a, from, found);
      });
      /** Whether a walk of `budget` tickets saw the whole rest of the list. */
      const sawAll = async (budget: number) => {
        const rows = await this.prepared.execute<{ n: number | string }>(db, shape('count'), { ...args, budget }, (a) =>
          db.selectFrom(first(a).as('w')).select((eb) => eb.fn.countAll<number | string>().as('n')));
        return Number(rows[0]?.n ?? 0) < budget;
      };
      const rows = await walk(this.searchWalk);
      if (rows.length > limit || (await sawAll(this.searchWalk))) return rows;
      // Matches are rarer than a page per walk. If they are still common (one in two hundred or
      // more), walking on costs less than reading every match from the index; the next walk is
      // sized from what this one found, with room to spare.
      if (rows.length >= Math.ceil(this.searchWalk / 200)) {
        const budget = Math.ceil((1.5 * this.searchWalk * (limit + 1)) / rows.length);
        const more = await walk(budget);
        if (more.length > limit || (await sawAll(budget))) return more;
      }
      this.rememberRare(key);
    }
    // The candidates are tested on each list row as it is read, before its ticket is. How many
    // there are decides PostgreSQL's best plan, so it plans this query for its words every time
    // (a walk's plan is the list's order whatever the words).
    return this.prepared.execute<VisibleTicket>(db, shape('candidates'), { ...args, match: pg ? tsQuery(query) : fts5Query(query) }, (a) => finish(a, listBase(db, a, source, sort, pg
      // OFFSET 0 keeps PostgreSQL from flattening this into a join it might walk row by row:
      // the candidates are read once, from the GIN index, and hashed.
      ? sql<SqlBool>`a.ticket_id in (select ticket_id from ticket_search where tsv @@ cast(${a.match} as tsquery) offset 0)`
      : sql<SqlBool>`a.ticket_id in (select rowid from ticket_search_fts where ticket_search_fts match ${a.match})`), undefined), false);
  }

  /**
   * Queries whose last walk found too few matches and ended with the index's candidates,
   * with when, so that the next page or the next member asking the same goes to the candidates
   * at once. Only the plan depends on it, never the answer; it is forgotten after a minute.
   */
  private readonly rare = new Map<string, number>();

  private wasRare(match: string): boolean {
    const at = this.rare.get(match);
    if (at === undefined) return false;
    if (this.deps.clock.now() - at < RARE_FOR_MS) return true;
    this.rare.delete(match);
    return false;
  }

  private rememberRare(match: string): void {
    this.rare.delete(match);
    this.rare.set(match, this.deps.clock.now());
    // Map keeps insertion order: the first key is the one remembered longest ago.
    if (this.rare.size > RARE_QUERIES) this.rare.delete(this.rare.keys().next().value as string);
  }

  /**
   * An attachment the viewer may download: on a customer-visible message (never an internal
   * comment, never a held one) of the newest thread (P16) of a ticket the viewer may see.
   */
  async findVisibleAttachmentId(viewer: Viewer, attachmentId: number, db: Conn = this.deps.db): Promise<number | undefined> {
    const rules = await this.rulesOf(db, viewer);
    const rows = await this.prepared.execute<{ id: number }>(db, `attachment ${rules.key}`, { ...viewerArgs(viewer), attachmentId }, (a) =>
      db.selectFrom('attachments as f')
        .innerJoin('messages as msg', 'msg.id', 'f.message_id')
        .innerJoin('threads as th', 'th.id', 'msg.thread_id')
        .innerJoin('tickets as t', 't.id', 'th.ticket_id')
        .select('f.id')
        .where('f.id', '=', num(a.attachmentId))
        .where(customerVisibleMessage('msg'))
        .where(sql<SqlBool>`th.id = (select n.id from threads n where n.ticket_id = t.id order by n.created_at desc, n.id desc limit 1)`)
        .where(visibleSql(a, rules.build(), false)));
    return rows[0]?.id;
  }
}
