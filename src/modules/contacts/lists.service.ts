import { sql } from 'kysely';
import type { Conn, Tx } from '../../db/database.js';
import type { RowUpdate } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { compileConditions, validateConditions, type ConditionT } from '../filters/filters.js';
import * as repo from './contacts.repository.js';
import { readJsonArray } from '../../util/json.js';
import { hasPermission, type Actor } from '../staff/staff.policy.js';

export interface ListInput {
  name: string;
  kind: 'static' | 'active';
  filters?: ConditionT[];
}

export function filtersOf(list: repo.ListRow): ConditionT[] {
  return readJsonArray<ConditionT>(list.filters);
}

/**
 * Contact lists (C1). Static lists hold whom staff put there. Active lists hold exactly the
 * contacts that match their filters: rebuilt when the filters change, and re-checked for one
 * contact whenever that contact (or its companies) changes, in the same transaction.
 */
/** Told, in the same transaction, when contacts may have joined or left lists: of one list, or these. */
export type MembershipHook = (tx: Tx, change: { listId?: number; contactIds?: number[] }) => Promise<unknown>;

export class ListsService {
  private readonly hooks: MembershipHook[] = [];

  constructor(private readonly deps: Deps) {}

  /** Portal invitations (P10) follow list membership through this. */
  onMembershipChange(hook: MembershipHook): void {
    this.hooks.push(hook);
  }

  private async changed(tx: Tx, change: { listId?: number; contactIds?: number[] }): Promise<void> {
    for (const hook of this.hooks) await hook(tx, change);
  }

  private checkFilters(kind: 'static' | 'active', filters: ConditionT[] | undefined): void {
    if (kind === 'static' && filters !== undefined && filters.length > 0) {
      throw errors.unprocessable('STATIC_LIST_HAS_NO_FILTERS', 'A static list has members, not filters.', [{ path: '/body/filters', message: 'A static list has members, not filters: leave this empty.' }]);
    }
    if (kind === 'active') {
      if (filters === undefined || filters.length === 0) {
        throw errors.unprocessable('ACTIVE_LIST_NEEDS_FILTERS', 'An active list needs at least one filter.', [{ path: '/body/filters', message: 'Add at least one condition.' }]);
      }
      validateConditions(repo.contactCatalogue, filters, '/body/filters');
    }
  }

  async create(input: ListInput): Promise<repo.ListRow> {
    this.checkFilters(input.kind, input.filters);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const list = await repo.insertList(tx, {
        name: input.name,
        kind: input.kind,
        filters: input.kind === 'active' ? JSON.stringify(input.filters ?? []) : null,
        created_at: now,
        updated_at: now,
      });
      if (list.kind === 'active') await this.rebuild(tx, list);
      return list;
    });
  }

  async get(id: number, db: Conn = this.deps.db): Promise<repo.ListRow> {
    const list = await repo.findListById(db, id);
    if (list === undefined) throw errors.notFound('list');
    return list;
  }

  async update(id: number, patch: { name?: string; filters?: ConditionT[] }): Promise<repo.ListRow> {
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.get(id, tx);
      if (patch.filters !== undefined) this.checkFilters(current.kind, patch.filters);
      const set: RowUpdate<'contact_lists'> = { updated_at: this.deps.clock.now() };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.filters !== undefined && current.kind === 'active') set.filters = JSON.stringify(patch.filters);
      const list = await repo.updateList(tx, id, set);
      if (list === undefined) throw errors.notFound('list');
      if (patch.filters !== undefined && list.kind === 'active') await this.rebuild(tx, list);
      return list;
    });
  }

  /** The portals that name this list: whose access (P10) or single sign-on audience (P13) it decides. */
  async portalsUsing(id: number, db: Conn = this.deps.db): Promise<string[]> {
    const rows = await db.selectFrom('portals as p').select('p.name')
      .where((eb) => eb.or([
        eb.exists(eb.selectFrom('portal_access_lists as pal').select('pal.list_id').whereRef('pal.portal_id', '=', 'p.id').where('pal.list_id', '=', id)),
        eb.exists(eb.selectFrom('portal_sso_lists as psl').select('psl.list_id').whereRef('psl.portal_id', '=', 'p.id').where('psl.list_id', '=', id)),
      ]))
      .orderBy('p.name').execute();
    return rows.map((r) => r.name);
  }

  /**
   * Who is on a list that a portal names decides who may use that portal, so changing its
   * members or filters is a portal setting (P3): staff without that permission are refused.
   */
  async assertMayChangeMembers(id: number, actor: Actor): Promise<void> {
    if (hasPermission(actor, 'portal_settings')) return;
    const portals = await this.portalsUsing(id);
    if (portals.length === 0) return;
    throw errors.forbidden(`This list decides who may use the customer portal ${portals.map((n) => `“${n}”`).join(', ')}. Changing who is on it needs the customer portal settings permission.`);
  }

  async delete(id: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const portals = await this.portalsUsing(id, tx);
      // Deleting an access list would open its portal to every member: never as a side effect.
      if (portals.length > 0) {
        throw errors.conflict('LIST_IN_USE', `The customer portal ${portals.map((n) => `“${n}”`).join(', ')} uses this list to decide who may sign in. Remove the list from the portal’s settings first.`);
      }
      if (!(await repo.deleteList(tx, id))) throw errors.notFound('list');
    });
  }

  async addMembers(id: number, contactIds: number[]): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const list = await this.get(id, tx);
      if (list.kind === 'active') throw errors.unprocessable('LIST_IS_ACTIVE', 'Members of an active list follow its filters; change the filters instead.');
      const existing = await repo.existingContactIds(tx, contactIds);
      const missing = contactIds.filter((c) => !existing.has(c));
      if (missing.length > 0) {
        throw errors.unprocessable('CONTACT_NOT_FOUND', 'Some contacts do not exist.', missing.map((c) => ({ path: `/body/contactIds/${contactIds.indexOf(c)}`, message: `There is no contact ${c}: choose one that exists.` })));
      }
      await repo.addMembers(tx, id, contactIds, this.deps.clock.now());
      await this.changed(tx, { listId: id, contactIds });
    });
  }

  async removeMember(id: number, contactId: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const list = await this.get(id, tx);
      if (list.kind === 'active') throw errors.unprocessable('LIST_IS_ACTIVE', 'Members of an active list follow its filters; change the filters instead.');
      if (!(await repo.removeMember(tx, id, contactId))) throw errors.notFound('list member');
      await this.changed(tx, { listId: id, contactIds: [contactId] });
    });
  }

  /** Makes an active list's members exactly the contacts matching its filters. */
  async rebuild(tx: Tx, list: repo.ListRow): Promise<void> {
    const condition = compileConditions(repo.contactCatalogue, filtersOf(list));
    const now = this.deps.clock.now();
    await tx.deleteFrom('list_members').where('list_id', '=', list.id)
      .where('contact_id', 'not in', tx.selectFrom('contacts').select('contacts.id').where(condition)).execute();
    await tx.insertInto('list_members').columns(['list_id', 'contact_id', 'added_at'])
      .expression(tx.selectFrom('contacts').select([sql.lit(list.id).as('list_id'), 'contacts.id', sql.lit(now).as('added_at')]).where(condition))
      .onConflict((oc) => oc.columns(['list_id', 'contact_id']).doNothing())
      .execute();
    await this.changed(tx, { listId: list.id });
  }

  /** Re-checks one contact against every active list, inside the caller's transaction. */
  async refreshContact(tx: Tx, contactId: number): Promise<void> {
    const now = this.deps.clock.now();
    for (const list of await repo.activeLists(tx)) {
      const condition = compileConditions(repo.contactCatalogue, filtersOf(list));
      const match = await tx.selectFrom('contacts').select('contacts.id').where('contacts.id', '=', contactId).where(condition).executeTakeFirst();
      if (match !== undefined) await repo.addMembers(tx, list.id, [contactId], now);
      else await repo.removeMember(tx, list.id, contactId);
    }
    await this.changed(tx, { contactIds: [contactId] });
  }
}
