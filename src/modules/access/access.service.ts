import { sql, type Expression, type SqlBool } from 'kysely';
import type { Conn } from '../../db/database.js';
import { jsonValue } from '../../db/dialect.js';
import type { Deps } from '../../deps.js';
import { afterCursor, mergeKeyset, orderFor, type Cursor, type SortSpec } from '../../http/pagination.js';
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
   * The portal's filter rules and the contact's primary company, read with the session in this
   * same request (one round trip instead of three). Queries in a transaction read their own.
   */
  known?: { filters: ConditionT[]; primaryCompanyId: number | null };
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

/**
 * Whose tickets a list reads: one contact's or one company's. A contact's list beside their
 * company's (the organization view) leaves out `exceptCompany`'s tickets: that list has them.
 */
type ListSource = { contactId: number; exceptCompany?: number } | { companyId: number };

/** Where a portal list starts: one contact's tickets or one company's, aliased `a`, each with its own copy of last activity. */
function listBase(db: Conn, of: ListSource) {
  if (!('contactId' in of)) return db.selectFrom('ticket_companies as a').where('a.company_id', '=', of.companyId);
  const own = db.selectFrom('ticket_contacts as a').where('a.contact_id', '=', of.contactId);
  const except = of.exceptCompany;
  // Before anything else is read of a ticket (its search document, the rule): a primary-key probe.
  return except === undefined ? own
    : own.where(sql<SqlBool>`not exists (select 1 from ticket_companies x where x.ticket_id = a.ticket_id and x.company_id = ${except})`);
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
 * an edited rule) holds from the next request on. The association tests are scalar subqueries
 * (at most one row each, by primary key), not EXISTS: PostgreSQL turns an OR of EXISTS into
 * hashed subplans and read all 20,000 tickets of a big company into a hash for a page of 25.
 */
export class AccessService {
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

  /** The access rule for `viewer`, as a condition on tickets aliased `t`. */
  async visible(viewer: Viewer, filters: ConditionT[], db: Conn = this.deps.db): Promise<Expression<SqlBool>> {
    // Custom property definitions are read only when a rule names one: this runs on every request.
    const withCustom = filters.some((f) => f.property.startsWith('properties.'));
    const rules = compileConditions(await this.ticketCatalogue(db, withCustom), filters);
    return sql<SqlBool>`(
      exists (select 1 from portals p join members m on m.portal_id = p.id
              where p.id = ${viewer.portalId} and p.enabled = 1
                and m.id = ${viewer.memberId} and m.contact_id = ${viewer.contactId} and m.disabled_at is null)
      and t.held = 0
      and ${rules}
      and ((select 1 from ticket_contacts vc where vc.ticket_id = t.id and vc.contact_id = ${viewer.contactId}) is not null
           or (select 1 from portals ps
                 join contacts c on c.id = ${viewer.contactId}
                 join ticket_companies vo on vo.company_id = c.primary_company_id
               where ps.id = ${viewer.portalId} and ps.scope = 'company' and vo.ticket_id = t.id) is not null)
    )`;
  }

  private async filtersOf(db: Conn, viewer: Viewer): Promise<ConditionT[]> {
    if (viewer.known !== undefined && db === this.deps.db) return viewer.known.filters;
    const portalId = viewer.portalId;
    const portal = await db.selectFrom('portals').select('filters').where('id', '=', portalId).executeTakeFirst();
    return readJsonArray<ConditionT>(portal?.filters ?? null);
  }

  /** The ticket, if the viewer may see it; undefined otherwise, the same as for a missing one. */
  async findVisibleTicketId(viewer: Viewer, ticketId: number, db: Conn = this.deps.db): Promise<number | undefined> {
    const condition = await this.visible(viewer, await this.filtersOf(db, viewer), db);
    const row = await db.selectFrom('tickets as t').select('t.id').where('t.id', '=', ticketId).where(condition).executeTakeFirst();
    return row?.id;
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
    const condition = await this.visible(viewer, await this.filtersOf(db, viewer), db);
    const own: ListSource = { contactId: viewer.contactId };
    if (options.view === 'mine') return this.pageFrom(db, own, condition, query, options);
    const company = viewer.known !== undefined && db === this.deps.db ? viewer.known.primaryCompanyId
      : (await db.selectFrom('contacts').select('primary_company_id').where('id', '=', viewer.contactId).executeTakeFirst())?.primary_company_id ?? null;
    if (company === null) return this.pageFrom(db, own, condition, query, options);
    // The company's tickets, and the member's own. A search leaves out of the member's own those
    // the company's list holds already: a primary-key probe each spares reading their documents
    // (most members have no others). Without words, their own list stops at a page, which is
    // cheaper than probing every one of their tickets.
    const ownArm: ListSource = query === undefined ? own : { ...own, exceptCompany: company };
    const pages = await Promise.all([ownArm, { companyId: company }].map((of) => this.pageFrom(db, of, condition, query, options)));
    return mergeKeyset(pages, options.sort, (r) => ({ value: r.sortValue, id: r.id }), options.limit + 1);
  }

  /**
   * The first `limit` + 1 tickets after the cursor of one contact's or company's tickets that
   * pass `condition`, the status and the search, in the sort's order.
   */
  private async pageFrom(db: Conn, of: ListSource, condition: Expression<SqlBool>, query: SearchQuery | undefined, options: ListOptions): Promise<VisibleTicket[]> {
    const base = listBase(db, of);
    const { sort, cursor, limit } = options;
    // What the list shows comes with the page, so rendering it needs no second query.
    const selection = ['t.id as id', sql.ref<number>(sort.column).as('sortValue'), 't.subject', 't.is_closed', 't.created_at', 't.last_activity_at',
      'st.name as stage', 'st.translations as stage_translations'] as const;
    const start = () => base.innerJoin('tickets as t', 't.id', 'a.ticket_id').innerJoin('stages as st', 'st.id', 't.stage_id').select(selection);
    const finish = (q: ReturnType<typeof start>, match: Expression<SqlBool> | undefined) => {
      // The search before the access rule: it is the cheaper test and fails more often.
      let r = match === undefined ? q : q.where(match);
      r = r.where(condition);
      if (options.status !== undefined) r = r.where('t.is_closed', '=', options.status === 'closed' ? 1 : 0);
      if (cursor !== undefined) r = r.where(afterCursor(sort, cursor));
      for (const o of orderFor(sort)) r = r.orderBy(o);
      return r.limit(limit + 1).execute();
    };
    const page = (match?: Expression<SqlBool>) => finish(start(), match);
    if (query === undefined) return page();
    const pg = this.deps.dialect === 'postgres';
    const candidates = pg
      // OFFSET 0 keeps PostgreSQL from flattening this into a join it might walk row by row:
      // the candidates are read once, from the GIN index, and hashed.
      ? sql<SqlBool>`t.id in (select ticket_id from ticket_search where tsv @@ cast(${tsQuery(query)} as tsquery) offset 0)`
      : sql<SqlBool>`t.id in (select rowid from ticket_search_fts where ticket_search_fts match ${fts5Query(query)})`;
    // Rare in a company's list says nothing of a contact's few tickets, nor one contact's of
    // another's: a contact's list keeps its own memory (else one contact with many tickets sends
    // every colleague's few straight to the index, which reads every match of a common word).
    const key = `${'contactId' in of ? `contact ${of.contactId} ${of.exceptCompany ?? ''}` : `company ${of.companyId}`} ${fts5Query(query)}`;
    if (sort.column.startsWith('a.') && this.searchWalk > 0 && !this.wasRare(key)) {
      // The list's first tickets in its order from where the page starts; each document is
      // joined before the ticket, so the access rule only runs on matches.
      let first = base.select(['a.ticket_id', 'a.last_activity_at']);
      if (cursor !== undefined) first = first.where(afterCursor(sort, cursor));
      for (const o of orderFor(sort)) first = first.orderBy(o);
      const has = (p: string) => (pg ? sql`strpos(s.doc, ${p}) > 0` : sql`instr(s.doc, ${p}) > 0`);
      const found = sql<SqlBool>`${sql.join(documentPatterns(query).map(has), sql` and `)}`;
      const walk = (budget: number) => finish(db.selectFrom(first.limit(budget).as('a'))
        .innerJoin('ticket_search as s', 's.ticket_id', 'a.ticket_id')
        .innerJoin('tickets as t', 't.id', 'a.ticket_id')
        .innerJoin('stages as st', 'st.id', 't.stage_id')
        .select(selection), found);
      /** Whether a walk of `budget` tickets saw the whole rest of the list. */
      const sawAll = async (budget: number) => {
        const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${first.limit(budget).as('w')}`.execute(db);
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
    return page(candidates);
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
    const condition = await this.visible(viewer, await this.filtersOf(db, viewer), db);
    const row = await db.selectFrom('attachments as a')
      .innerJoin('messages as msg', 'msg.id', 'a.message_id')
      .innerJoin('threads as th', 'th.id', 'msg.thread_id')
      .innerJoin('tickets as t', 't.id', 'th.ticket_id')
      .select('a.id')
      .where('a.id', '=', attachmentId)
      .where(customerVisibleMessage('msg'))
      .where(sql<SqlBool>`th.id = (select n.id from threads n where n.ticket_id = t.id order by n.created_at desc, n.id desc limit 1)`)
      .where(condition)
      .executeTakeFirst();
    return row?.id;
  }
}
