import type { Deps } from '../../deps.js';
import { AppError, errors } from '../../errors.js';
import { iso } from '../../http/common-schemas.js';
import { readJsonArray, readJsonObject } from '../../util/json.js';
import { validateConditions, type Catalogue } from '../filters/filters.js';
import { hasPermission, type Actor } from '../staff/staff.policy.js';
import * as repo from './views.repository.js';
import type { TicketViewCreateT, TicketViewFiltersT, TicketViewUpdateT } from './views.schemas.js';

/**
 * Who may change a saved view: nobody a built-in one; a shared one, staff with the settings
 * permission; a private one, its owner (nobody else even sees it).
 */
export function mayChangeView(actor: Actor, row: repo.TicketViewRow): boolean {
  if (row.built_in === 1) return false;
  if (row.staff_user_id === null) return hasPermission(actor, 'manage_settings');
  return row.staff_user_id === actor.id;
}

export function presentView(actor: Actor, row: repo.TicketViewRow) {
  return {
    id: row.id,
    name: row.name,
    shared: row.staff_user_id === null,
    builtIn: row.built_in === 1,
    canChange: mayChangeView(actor, row),
    filters: readJsonObject<TicketViewFiltersT>(row.filters) as TicketViewFiltersT,
    sort: row.sort,
    columns: row.columns === null ? null : readJsonArray<string>(row.columns),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

const builtIn = () => new AppError(409, 'VIEW_BUILT_IN', 'This view comes with Portico and cannot be changed. Save your own view instead.');

/** Saved views of the staff ticket list (C10). */
export class TicketViewsService {
  constructor(
    private readonly deps: Deps,
    private readonly catalogue: () => Promise<Catalogue>,
  ) {}

  list(actor: Actor): Promise<repo.TicketViewRow[]> {
    return repo.listViewsFor(this.deps.db, actor.id);
  }

  /** A view the actor may see; someone else's private view is as missing as one that never was. */
  async get(actor: Actor, id: number): Promise<repo.TicketViewRow> {
    const row = await repo.findViewById(this.deps.db, id);
    if (row === undefined || (row.staff_user_id !== null && row.staff_user_id !== actor.id)) throw errors.notFound('ticket view');
    return row;
  }

  private async check(filters: TicketViewFiltersT | undefined): Promise<void> {
    if (filters?.conditions !== undefined && filters.conditions.length > 0) validateConditions(await this.catalogue(), filters.conditions, '/body/filters/conditions');
  }

  async create(actor: Actor, input: TicketViewCreateT): Promise<repo.TicketViewRow> {
    if (input.shared === true && !hasPermission(actor, 'manage_settings')) throw errors.forbidden('Only staff who manage settings may share a view with everyone.');
    await this.check(input.filters);
    const now = this.deps.clock.now();
    return repo.insertView(this.deps.db, {
      name: input.name.trim(),
      staff_user_id: input.shared === true ? null : actor.id,
      built_in: 0,
      filters: JSON.stringify(input.filters),
      sort: input.sort ?? null,
      columns: input.columns === undefined || input.columns === null ? null : JSON.stringify(input.columns),
      created_by_staff_id: actor.id,
      created_at: now,
      updated_at: now,
    });
  }

  private async changeable(actor: Actor, id: number): Promise<repo.TicketViewRow> {
    const row = await this.get(actor, id);
    if (row.built_in === 1) throw builtIn();
    if (!mayChangeView(actor, row)) throw errors.forbidden('Only staff who manage settings may change a shared view.');
    return row;
  }

  async update(actor: Actor, id: number, patch: TicketViewUpdateT): Promise<repo.TicketViewRow> {
    await this.changeable(actor, id);
    await this.check(patch.filters);
    const row = await repo.updateView(this.deps.db, id, {
      updated_at: this.deps.clock.now(),
      ...(patch.name === undefined ? {} : { name: patch.name.trim() }),
      ...(patch.filters === undefined ? {} : { filters: JSON.stringify(patch.filters) }),
      ...(patch.sort === undefined ? {} : { sort: patch.sort }),
      ...(patch.columns === undefined ? {} : { columns: patch.columns === null ? null : JSON.stringify(patch.columns) }),
    });
    if (row === undefined) throw errors.notFound('ticket view');
    return row;
  }

  async delete(actor: Actor, id: number): Promise<void> {
    await this.changeable(actor, id);
    await repo.deleteView(this.deps.db, id);
  }
}
