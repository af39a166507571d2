import { SqliteAdapter, sql, type Compilable, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Conn } from '../../db/database.js';
import { PreparedQuery } from '../../db/prepared.js';
import type { NewRow, Row, RowUpdate } from '../../db/schema.js';
import { afterCursor, orderFor, type Cursor, type SortSpec } from '../../http/pagination.js';
import { reindexTicketSearch } from './search-index.js';

export type TicketRow = Row<'tickets'>;

export interface TicketFilter {
  contactId?: number;
  companyId?: number;
  pipelineId?: number;
  stageId?: number;
  ownerId?: number;
  closed?: boolean;
  priority?: string;
  /** Tickets with no owner. */
  unassigned?: boolean;
  /** Milliseconds: from inclusive, to exclusive. */
  createdFrom?: number;
  createdTo?: number;
  activityFrom?: number;
  activityTo?: number;
  /**
   * Any further condition on the ticket (aliased `t`): filter conditions compiled from the
   * ticket catalogue, a word search. Its SQL varies with its content, so such a list is built
   * each time instead of prepared once.
   */
  where?: Expression<SqlBool>;
}

export const TICKET_SORTS = { lastActivityAt: 't.last_activity_at', createdAt: 't.created_at', subject: 't.subject' } as const;
/** The sorts whose column holds text. */
export const TICKET_TEXT_SORTS = ['subject'] as const;

/** The columns a list shows; a ticket's description and custom values come with its detail. */
const SUMMARY_COLUMNS = [
  'id', 'subject', 'pipeline_id', 'stage_id', 'is_closed', 'priority', 'category', 'source', 'owner_id',
  'revision', 'created_at', 'updated_at', 'last_activity_at', 'closed_at',
] as const;
export type TicketSummaryRow = Omit<TicketRow, 'description' | 'properties' | 'held'>;

/** What a list query returns: which tickets, in order, and which revision of each. */
export interface TicketKey {
  id: number;
  revision: number;
  sort_value: number;
}

interface ListArgs {
  contactId?: number;
  companyId?: number;
  pipelineId?: number;
  stageId?: number;
  ownerId?: number;
  closed?: number;
  priority?: string;
  unassigned?: number;
  assigned?: number;
  createdFrom?: number;
  createdTo?: number;
  activityFrom?: number;
  activityTo?: number;
  cursorValue?: number | string;
  cursorId?: number;
  limit: number;
}

function fromAssociation(db: Conn, a: ListArgs) {
  let q = a.contactId !== undefined
    ? db.selectFrom('ticket_contacts as a').where('a.contact_id', '=', a.contactId)
    : db.selectFrom('ticket_companies as a').where('a.company_id', '=', a.companyId ?? 0);
  if (a.contactId !== undefined && a.companyId !== undefined) {
    const companyId = a.companyId;
    q = q.where((eb) => eb.exists(eb.selectFrom('ticket_companies as tco').select('tco.ticket_id').whereRef('tco.ticket_id', '=', 'a.ticket_id').where('tco.company_id', '=', companyId)));
  }
  return q;
}

/** The part every shape of the keys query shares: filters on the ticket, cursor, order, limit. */
interface KeysQuery<Q> {
  where(condition: Expression<SqlBool>): Q;
  orderBy(expression: RawBuilder<unknown>): Q;
  limit(limit: number): Q;
}

function finishKeys<Q extends KeysQuery<Q>>(query: Q, a: ListArgs, sort: SortSpec, where: Expression<SqlBool> | undefined, sqlite: boolean): Q {
  const conditions: Expression<SqlBool>[] = [];
  const onTicket = (column: string, value: unknown, op = '=') => conditions.push(sql<SqlBool>`${sql.ref(column)} ${sql.raw(op)} ${value}`);
  // The (pipeline | stage | owner, last_activity_at, id) indexes serve the default sort. Sorted
  // by anything else, SQLite (no statistics) would still take one for its equality, then sort
  // every ticket of that pipeline itself (0.4 s for 600,000 at 1M); a unary + keeps it walking
  // the sort's own index instead, filtering as it goes. PostgreSQL's planner weighs both.
  const byIndex = (column: string) => (sqlite && sort.column !== 't.last_activity_at' ? sql`+${sql.ref(column)}` : sql.ref(column));
  const onIndexed = (column: string, value: unknown) => conditions.push(sql<SqlBool>`${byIndex(column)} = ${value}`);
  if (a.pipelineId !== undefined) onIndexed('t.pipeline_id', a.pipelineId);
  if (a.stageId !== undefined) onIndexed('t.stage_id', a.stageId);
  if (a.ownerId !== undefined) onIndexed('t.owner_id', a.ownerId);
  // Two arguments, not one flag, so each prepared shape reads the owner index as it should.
  if (a.unassigned !== undefined) conditions.push(sql<SqlBool>`${byIndex('t.owner_id')} is null`);
  if (a.assigned !== undefined) conditions.push(sql<SqlBool>`t.owner_id is not null`);
  if (a.closed !== undefined) onTicket('t.is_closed', a.closed);
  if (a.priority !== undefined) onTicket('t.priority', a.priority);
  if (a.createdFrom !== undefined) onTicket('t.created_at', a.createdFrom, '>=');
  if (a.createdTo !== undefined) onTicket('t.created_at', a.createdTo, '<');
  if (a.activityFrom !== undefined) onTicket('t.last_activity_at', a.activityFrom, '>=');
  if (a.activityTo !== undefined) onTicket('t.last_activity_at', a.activityTo, '<');
  if (where !== undefined) conditions.push(where);
  if (a.cursorValue !== undefined && a.cursorId !== undefined) conditions.push(afterCursor(sort, { value: a.cursorValue, id: a.cursorId }));
  let q = query;
  for (const condition of conditions) q = q.where(condition);
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(a.limit);
}

const TICKET_ONLY_ARGS = ['pipelineId', 'stageId', 'ownerId', 'closed', 'priority', 'unassigned', 'assigned', 'createdFrom', 'createdTo', 'activityFrom', 'activityTo'] as const;

function buildKeys(db: Conn, a: ListArgs, sort: SortSpec, where?: Expression<SqlBool>) {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const throughAssociation = a.contactId !== undefined || a.companyId !== undefined;
  const onTicketsOnly = where !== undefined || TICKET_ONLY_ARGS.some((k) => a[k] !== undefined);
  const sortValue = sql.ref<number>(sort.column).as('sort_value');
  if (!throughAssociation) {
    return finishKeys(db.selectFrom('tickets as t').select(['t.id as id', 't.revision as revision', sortValue]), a, sort, where, sqlite);
  }
  // Through an association alone, the query never leaves the (x, last_activity desc, ticket
  // desc, revision) index; any other filter or sort reads the tickets themselves.
  if (!onTicketsOnly && !sort.column.startsWith('t.')) {
    return finishKeys(fromAssociation(db, a).select(['a.ticket_id as id', 'a.ticket_revision as revision', sortValue]), a, sort, where, sqlite);
  }
  return finishKeys(fromAssociation(db, a).innerJoin('tickets as t', 't.id', 'a.ticket_id').select(['t.id as id', 't.revision as revision', sortValue]), a, sort, where, sqlite);
}

/** One prepared query per shape: the sort plus which filters are present. */
const listQueries = new Map<string, PreparedQuery<ListArgs, TicketKey>>();

/**
 * Lists tickets as (id, revision) in order. Filtered by contact (or company), the query reads
 * only the association's (contact_id, last_activity_at desc, ticket_id desc, ticket_revision)
 * index: the page costs the same for 5 tickets or 20,000, and the revisions tell which cached
 * renderings are still current (see summary-cache.ts).
 */
export function listTicketKeys(db: Conn, filter: TicketFilter, sort: SortSpec, cursor: Cursor | undefined, limit: number): Promise<TicketKey[]> {
  const args: ListArgs = { limit: limit + 1 };
  if (filter.contactId !== undefined) args.contactId = filter.contactId;
  if (filter.companyId !== undefined) args.companyId = filter.companyId;
  if (filter.pipelineId !== undefined) args.pipelineId = filter.pipelineId;
  if (filter.stageId !== undefined) args.stageId = filter.stageId;
  if (filter.ownerId !== undefined) args.ownerId = filter.ownerId;
  if (filter.closed !== undefined) args.closed = filter.closed ? 1 : 0;
  if (filter.priority !== undefined) args.priority = filter.priority;
  if (filter.unassigned === true) args.unassigned = 1;
  if (filter.unassigned === false) args.assigned = 1;
  if (filter.createdFrom !== undefined) args.createdFrom = filter.createdFrom;
  if (filter.createdTo !== undefined) args.createdTo = filter.createdTo;
  if (filter.activityFrom !== undefined) args.activityFrom = filter.activityFrom;
  if (filter.activityTo !== undefined) args.activityTo = filter.activityTo;
  if (cursor !== undefined) {
    args.cursorValue = cursor.value;
    args.cursorId = cursor.id;
  }
  if (filter.where !== undefined) return buildKeys(db, args, sort, filter.where).execute();
  const shape = `${sort.column} ${sort.direction} ${Object.keys(args).sort().join(',')}`;
  let query = listQueries.get(shape);
  if (query === undefined) {
    query = new PreparedQuery((conn: Conn, a: ListArgs): Compilable<TicketKey> => buildKeys(conn, a, sort));
    listQueries.set(shape, query);
  }
  return query.execute(db, args);
}

export function findTicketSummaries(db: Conn, ids: number[]): Promise<TicketSummaryRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('tickets').select(SUMMARY_COLUMNS).where('id', 'in', ids).execute();
}

/** When listing through an association table, order by its copy of last_activity_at. */
export function sortThroughAssociation(sort: SortSpec, filter: TicketFilter): SortSpec {
  if (sort.column !== TICKET_SORTS.lastActivityAt || (filter.contactId === undefined && filter.companyId === undefined)) return sort;
  return { ...sort, column: 'a.last_activity_at', idColumn: 'a.ticket_id' };
}

export function findTicketById(db: Conn, id: number): Promise<TicketRow | undefined> {
  return db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertTicket(db: Conn, row: NewRow<'tickets'>): Promise<TicketRow> {
  const ticket = await db.insertInto('tickets').values(row).returningAll().executeTakeFirstOrThrow();
  await reindexTicketSearch(db, ticket.id);
  return ticket;
}

/** Copies a ticket's revision and last activity onto its associations. */
async function syncAssociations(db: Conn, row: Pick<TicketRow, 'id' | 'revision' | 'last_activity_at'>): Promise<void> {
  const set = { ticket_revision: row.revision, last_activity_at: row.last_activity_at };
  await db.updateTable('ticket_contacts').set(set).where('ticket_id', '=', row.id).execute();
  await db.updateTable('ticket_companies').set(set).where('ticket_id', '=', row.id).execute();
}

/** Every change to a ticket raises its revision, here and on its associations. */
export async function updateTicket(db: Conn, id: number, patch: RowUpdate<'tickets'>): Promise<TicketRow | undefined> {
  const row = await db.updateTable('tickets').set({ ...patch, revision: sql<number>`revision + 1` }).where('id', '=', id).returningAll().executeTakeFirst();
  if (row !== undefined) await syncAssociations(db, row);
  if (row !== undefined && patch.subject !== undefined) await reindexTicketSearch(db, id);
  return row;
}

export async function deleteTicket(db: Conn, id: number): Promise<boolean> {
  const r = await db.deleteFrom('tickets').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** Contact and company ids of a page of tickets, in one round trip. */
export async function associationsOf(db: Conn, ticketIds: number[]): Promise<{ contacts: Map<number, number[]>; companies: Map<number, number[]> }> {
  const contacts = new Map<number, number[]>(ticketIds.map((id) => [id, []]));
  const companies = new Map<number, number[]>(ticketIds.map((id) => [id, []]));
  if (ticketIds.length === 0) return { contacts, companies };
  const rows = await db.selectFrom('ticket_contacts').select(['ticket_id', 'contact_id as other', sql<number>`0`.as('kind')]).where('ticket_id', 'in', ticketIds)
    .unionAll(db.selectFrom('ticket_companies').select(['ticket_id', 'company_id as other', sql<number>`1`.as('kind')]).where('ticket_id', 'in', ticketIds))
    .execute();
  for (const r of rows) (r.kind === 0 ? contacts : companies).get(r.ticket_id)?.push(r.other);
  for (const list of [...contacts.values(), ...companies.values()]) list.sort((a, b) => a - b);
  return { contacts, companies };
}

/** The contacts (by name, else email) and companies (by name) of a page of tickets, in two indexed reads. */
export async function peopleOf(db: Conn, ticketIds: number[]): Promise<Map<number, { contacts: { id: number; name: string }[]; companies: { id: number; name: string }[] }>> {
  const out = new Map(ticketIds.map((id) => [id, { contacts: [] as { id: number; name: string }[], companies: [] as { id: number; name: string }[] }]));
  if (ticketIds.length === 0) return out;
  const contacts = await db.selectFrom('ticket_contacts as a').innerJoin('contacts as c', 'c.id', 'a.contact_id')
    .select(['a.ticket_id', 'c.id', 'c.first_name', 'c.last_name', 'c.email']).where('a.ticket_id', 'in', ticketIds).orderBy('c.id').execute();
  const companies = await db.selectFrom('ticket_companies as a').innerJoin('companies as c', 'c.id', 'a.company_id')
    .select(['a.ticket_id', 'c.id', 'c.name']).where('a.ticket_id', 'in', ticketIds).orderBy('c.id').execute();
  for (const c of contacts) {
    const name = [c.first_name, c.last_name].filter((p) => p !== null && p !== '').join(' ');
    out.get(c.ticket_id)?.contacts.push({ id: c.id, name: name === '' ? c.email : name });
  }
  for (const c of companies) out.get(c.ticket_id)?.companies.push({ id: c.id, name: c.name });
  return out;
}

/** The custom values of a page of tickets, as stored (JSON text). */
export async function customValuesOf(db: Conn, ticketIds: number[]): Promise<Map<number, string>> {
  if (ticketIds.length === 0) return new Map();
  const rows = await db.selectFrom('tickets').select(['id', 'properties']).where('id', 'in', ticketIds).execute();
  return new Map(rows.map((r) => [r.id, r.properties]));
}

export async function linkContact(db: Conn, ticket: Pick<TicketRow, 'id' | 'revision' | 'last_activity_at'>, contactId: number): Promise<void> {
  await db.insertInto('ticket_contacts').values({ ticket_id: ticket.id, contact_id: contactId, last_activity_at: ticket.last_activity_at, ticket_revision: ticket.revision })
    .onConflict((oc) => oc.columns(['ticket_id', 'contact_id']).doNothing()).execute();
}

export async function linkCompany(db: Conn, ticket: Pick<TicketRow, 'id' | 'revision' | 'last_activity_at'>, companyId: number): Promise<void> {
  await db.insertInto('ticket_companies').values({ ticket_id: ticket.id, company_id: companyId, last_activity_at: ticket.last_activity_at, ticket_revision: ticket.revision })
    .onConflict((oc) => oc.columns(['ticket_id', 'company_id']).doNothing()).execute();
}

export async function unlinkContact(db: Conn, ticketId: number, contactId: number): Promise<boolean> {
  const r = await db.deleteFrom('ticket_contacts').where('ticket_id', '=', ticketId).where('contact_id', '=', contactId).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function unlinkCompany(db: Conn, ticketId: number, companyId: number): Promise<boolean> {
  const r = await db.deleteFrom('ticket_companies').where('ticket_id', '=', ticketId).where('company_id', '=', companyId).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** Moves a ticket's last activity, and its copies on the association tables, together. */
export async function setLastActivity(db: Conn, ticketId: number, at: number): Promise<void> {
  await updateTicket(db, ticketId, { last_activity_at: at, updated_at: at });
}

export async function primaryCompaniesOf(db: Conn, contactIds: number[]): Promise<number[]> {
  if (contactIds.length === 0) return [];
  const rows = await db.selectFrom('contacts').select('primary_company_id').where('id', 'in', contactIds).where('primary_company_id', 'is not', null).execute();
  return rows.map((r) => r.primary_company_id).filter((id): id is number => id !== null);
}
