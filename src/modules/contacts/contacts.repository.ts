import { sql } from 'kysely';
import type { Conn } from '../../db/database.js';
import type { NewRow, Row, RowUpdate } from '../../db/schema.js';
import { afterCursor, orderFor, type Cursor, type SortSpec } from '../../http/pagination.js';
import type { Catalogue } from '../filters/filters.js';

export type ContactRow = Row<'contacts'>;
export type CompanyRow = Row<'companies'>;
export type ListRow = Row<'contact_lists'>;

/** Contact properties an active list can filter on. */
export const contactCatalogue: Catalogue = {
  email: { type: 'text', label: 'Email', ref: sql.ref('contacts.email_key'), lowerCase: true },
  firstName: { type: 'text', label: 'First name', ref: sql.ref('contacts.first_name') },
  lastName: { type: 'text', label: 'Last name', ref: sql.ref('contacts.last_name') },
  phone: { type: 'text', label: 'Phone', ref: sql.ref('contacts.phone') },
  primaryCompanyId: { type: 'id', label: 'Primary company', choices: 'companies', ref: sql.ref('contacts.primary_company_id') },
  companyId: {
    type: 'id',
    label: 'Any of their companies',
    choices: 'companies',
    ref: sql.ref('contacts.id'),
    membership: (values) =>
      sql`exists (select 1 from contact_companies cc where cc.contact_id = contacts.id and cc.company_id in (${sql.join(values.map((v) => sql`${v}`))}))`,
    anyMembership: sql`exists (select 1 from contact_companies cc where cc.contact_id = contacts.id)`,
  },
};

export function findContactById(db: Conn, id: number): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findContactByEmailKey(db: Conn, key: string): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('email_key', '=', key).executeTakeFirst();
}

export function insertContact(db: Conn, row: NewRow<'contacts'>): Promise<ContactRow> {
  return db.insertInto('contacts').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateContact(db: Conn, id: number, patch: RowUpdate<'contacts'>): Promise<ContactRow | undefined> {
  return db.updateTable('contacts').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteContact(db: Conn, id: number): Promise<boolean> {
  const r = await db.deleteFrom('contacts').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/**
 * The upper bound of a "starts with" range: the highest code point. Both databases compare text
 * as UTF-8 bytes, where a character beyond U+FFFF (an emoji) sorts after U+FFFF.
 */
const PREFIX_END = '\u{10FFFF}';

export interface ContactFilter {
  emailPrefix?: string;
  companyId?: number;
  listId?: number;
}

export function listContacts(db: Conn, filter: ContactFilter, sort: SortSpec, cursor: Cursor | undefined, limit: number): Promise<ContactRow[]> {
  let q = db.selectFrom('contacts').selectAll('contacts');
  if (filter.emailPrefix !== undefined) {
    // A range on the unique index: "starts with" without LIKE, so it stays fast at any size.
    q = q.where('contacts.email_key', '>=', filter.emailPrefix).where('contacts.email_key', '<', filter.emailPrefix + PREFIX_END);
  }
  if (filter.companyId !== undefined) {
    const companyId = filter.companyId;
    q = q.where((eb) => eb.exists(eb.selectFrom('contact_companies as cc').select('cc.contact_id').whereRef('cc.contact_id', '=', 'contacts.id').where('cc.company_id', '=', companyId)));
  }
  if (filter.listId !== undefined) {
    const listId = filter.listId;
    q = q.where((eb) => eb.exists(eb.selectFrom('list_members as lm').select('lm.contact_id').whereRef('lm.contact_id', '=', 'contacts.id').where('lm.list_id', '=', listId)));
  }
  if (cursor !== undefined) q = q.where(afterCursor(sort, cursor));
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(limit + 1).execute();
}

/** Company ids per contact, for a page of contacts in one query. */
export async function companyIdsOf(db: Conn, contactIds: number[]): Promise<Map<number, number[]>> {
  const map = new Map<number, number[]>(contactIds.map((id) => [id, []]));
  if (contactIds.length === 0) return map;
  const rows = await db.selectFrom('contact_companies').select(['contact_id', 'company_id']).where('contact_id', 'in', contactIds).orderBy('company_id').execute();
  for (const r of rows) map.get(r.contact_id)?.push(r.company_id);
  return map;
}

export async function linkCompany(db: Conn, contactId: number, companyId: number, at: number): Promise<void> {
  await db.insertInto('contact_companies').values({ contact_id: contactId, company_id: companyId, created_at: at })
    .onConflict((oc) => oc.columns(['contact_id', 'company_id']).doNothing()).execute();
}

export async function unlinkCompany(db: Conn, contactId: number, companyId: number): Promise<boolean> {
  const r = await db.deleteFrom('contact_companies').where('contact_id', '=', contactId).where('company_id', '=', companyId).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

// Companies

export function findCompanyById(db: Conn, id: number): Promise<CompanyRow | undefined> {
  return db.selectFrom('companies').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function existingCompanyIds(db: Conn, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('companies').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

export function insertCompany(db: Conn, row: NewRow<'companies'>): Promise<CompanyRow> {
  return db.insertInto('companies').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateCompany(db: Conn, id: number, patch: RowUpdate<'companies'>): Promise<CompanyRow | undefined> {
  return db.updateTable('companies').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteCompany(db: Conn, id: number): Promise<boolean> {
  const r = await db.deleteFrom('companies').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export function listCompanies(db: Conn, filter: { namePrefix?: string; domain?: string }, sort: SortSpec, cursor: Cursor | undefined, limit: number): Promise<CompanyRow[]> {
  let q = db.selectFrom('companies').selectAll();
  if (filter.namePrefix !== undefined) q = q.where('name', '>=', filter.namePrefix).where('name', '<', filter.namePrefix + PREFIX_END);
  if (filter.domain !== undefined) q = q.where('domain', '=', filter.domain.toLowerCase());
  if (cursor !== undefined) q = q.where(afterCursor(sort, cursor));
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(limit + 1).execute();
}

// Lists

export function findListById(db: Conn, id: number): Promise<ListRow | undefined> {
  return db.selectFrom('contact_lists').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertList(db: Conn, row: NewRow<'contact_lists'>): Promise<ListRow> {
  return db.insertInto('contact_lists').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateList(db: Conn, id: number, patch: RowUpdate<'contact_lists'>): Promise<ListRow | undefined> {
  return db.updateTable('contact_lists').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteList(db: Conn, id: number): Promise<boolean> {
  const r = await db.deleteFrom('contact_lists').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export function listLists(db: Conn, cursor: Cursor | undefined, sort: SortSpec, limit: number): Promise<ListRow[]> {
  let q = db.selectFrom('contact_lists').selectAll();
  if (cursor !== undefined) q = q.where(afterCursor(sort, cursor));
  for (const o of orderFor(sort)) q = q.orderBy(o);
  return q.limit(limit + 1).execute();
}

export function activeLists(db: Conn): Promise<ListRow[]> {
  return db.selectFrom('contact_lists').selectAll().where('kind', '=', 'active').execute();
}

export async function memberCounts(db: Conn, listIds: number[]): Promise<Map<number, number>> {
  const map = new Map<number, number>(listIds.map((id) => [id, 0]));
  if (listIds.length === 0) return map;
  const rows = await db.selectFrom('list_members').select(['list_id', (eb) => eb.fn.countAll<number>().as('n')]).where('list_id', 'in', listIds).groupBy('list_id').execute();
  for (const r of rows) map.set(r.list_id, r.n);
  return map;
}

export async function addMembers(db: Conn, listId: number, contactIds: number[], at: number): Promise<void> {
  if (contactIds.length === 0) return;
  await db.insertInto('list_members').values(contactIds.map((id) => ({ list_id: listId, contact_id: id, added_at: at })))
    .onConflict((oc) => oc.columns(['list_id', 'contact_id']).doNothing()).execute();
}

export async function removeMember(db: Conn, listId: number, contactId: number): Promise<boolean> {
  const r = await db.deleteFrom('list_members').where('list_id', '=', listId).where('contact_id', '=', contactId).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function existingContactIds(db: Conn, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('contacts').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}
