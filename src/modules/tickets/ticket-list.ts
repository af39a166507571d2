import { sql, type Expression, type SqlBool } from 'kysely';
import { Value } from 'typebox/value';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { pickSort, type SortSpec } from '../../http/pagination.js';
import { fts5Query, parseSearchQuery, tsQuery } from '../../util/search-text.js';
import { compileConditions, Conditions, validateConditions, type Catalogue, type ConditionT } from '../filters/filters.js';
import { sortThroughAssociation, TICKET_SORTS, TICKET_TEXT_SORTS, type TicketFilter } from './tickets.repository.js';
import type { TicketListQueryT } from './tickets.schemas.js';

/** What a list query asks for, read into a filter and a sort; null when it can match nothing. */
export interface TicketListPlan {
  filter: TicketFilter;
  sort: SortSpec;
}

function millis(value: string | undefined, path: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw errors.validation([{ path, message: 'must be a date and time' }]);
  return ms;
}

function parseConditions(raw: string): ConditionT[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw errors.validation([{ path: '/querystring/filter', message: 'must be a JSON array of conditions' }]);
  }
  if (!Value.Check(Conditions, parsed)) {
    const first = Value.Errors(Conditions, parsed)[0];
    throw errors.validation([{ path: `/querystring/filter${first?.instancePath ?? ''}`, message: first?.message ?? 'must be a JSON array of conditions' }]);
  }
  return parsed;
}

/**
 * The staff ticket list's query (C10) as a filter for tickets.repository.listTicketKeys: plain
 * filters stay prepared-query arguments; conditions and a word search become one more
 * condition on the ticket. `catalogue` loads the properties conditions may name.
 */
export async function planTicketList(deps: Deps, q: TicketListQueryT, catalogue: () => Promise<Catalogue>): Promise<TicketListPlan | null> {
  const filter: TicketFilter = {};
  if (q.contactId !== undefined) filter.contactId = q.contactId;
  if (q.companyId !== undefined) filter.companyId = q.companyId;
  if (q.pipelineId !== undefined) filter.pipelineId = q.pipelineId;
  if (q.stageId !== undefined) filter.stageId = q.stageId;
  if (q.ownerId !== undefined) filter.ownerId = q.ownerId;
  if (q.unassigned !== undefined) filter.unassigned = q.unassigned;
  if (q.status !== undefined) filter.closed = q.status === 'closed';
  if (q.priority !== undefined) filter.priority = q.priority;
  const createdFrom = millis(q.createdFrom, '/querystring/createdFrom');
  const createdTo = millis(q.createdTo, '/querystring/createdTo');
  const activityFrom = millis(q.activityFrom, '/querystring/activityFrom');
  const activityTo = millis(q.activityTo, '/querystring/activityTo');
  if (createdFrom !== undefined) filter.createdFrom = createdFrom;
  if (createdTo !== undefined) filter.createdTo = createdTo;
  if (activityFrom !== undefined) filter.activityFrom = activityFrom;
  if (activityTo !== undefined) filter.activityTo = activityTo;
  const sort = sortThroughAssociation(pickSort(q.sort, '-lastActivityAt', TICKET_SORTS, 't.id', TICKET_TEXT_SORTS), filter);
  const where: Expression<SqlBool>[] = [];
  if (q.filter !== undefined) {
    const conditions = parseConditions(q.filter);
    const known = await catalogue();
    validateConditions(known, conditions, '/querystring/filter');
    if (conditions.length > 0) where.push(compileConditions(known, conditions));
  }
  if (q.q !== undefined) {
    const search = parseSearchQuery(q.q);
    if (search === null) return null; // nothing in it that a ticket's words could hold
    // The index's candidates: the subject and the conversation the customer sees (search-index.ts).
    where.push(deps.dialect === 'postgres'
      ? sql<SqlBool>`t.id in (select ticket_id from ticket_search where tsv @@ cast(${tsQuery(search)} as tsquery))`
      : sql<SqlBool>`t.id in (select rowid from ticket_search_fts where ticket_search_fts match ${fts5Query(search)})`);
  }
  if (where.length > 0) filter.where = sql<SqlBool>`(${sql.join(where, sql` and `)})`;
  return { filter, sort };
}
