import type { Ok, paths } from '../api/client';

/** The Tickets screen's state, all of it in the address, so a link or a reload shows the same list. */
export interface TicketsSearch {
  view?: number | undefined;
  mode?: 'board' | undefined;
  q?: string | undefined;
  status?: 'open' | 'closed' | undefined;
  pipelineId?: number | undefined;
  stageId?: number | undefined;
  priority?: Priority | undefined;
  /** "me", "none", or a staff member's id. */
  owner?: string | undefined;
  contactId?: number | undefined;
  companyId?: number | undefined;
  /** Days, YYYY-MM-DD, in the browser's time zone; "to" days are included. */
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
  activityFrom?: string | undefined;
  activityTo?: string | undefined;
  /** A custom property's key, and the value it must have. */
  prop?: string | undefined;
  propValue?: string | undefined;
  sort?: string | undefined;
  /** The columns shown, comma-separated. */
  cols?: string | undefined;
}

export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export type TicketView = Ok<'/api/v1/ticket-views'>['items'][number];
export type ViewFilters = TicketView['filters'];
type ListQuery = NonNullable<paths['/api/v1/tickets']['get']['parameters']['query']>;

export const SORTS = ['-lastActivityAt', 'lastActivityAt', '-createdAt', 'createdAt', 'subject', '-subject'] as const;
export const BASE_COLUMNS = ['subject', 'contact', 'company', 'pipeline', 'stage', 'status', 'priority', 'owner', 'createdAt', 'lastActivityAt'] as const;
export const DEFAULT_COLUMNS = ['subject', 'contact', 'company', 'stage', 'priority', 'owner', 'lastActivityAt'];

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const id = (v: unknown) => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
};
const day = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined);

export function validateTicketsSearch(s: Record<string, unknown>): TicketsSearch {
  const owner = typeof s.owner === 'number' ? String(s.owner) : text(s.owner);
  return {
    view: id(s.view),
    mode: s.mode === 'board' ? 'board' : undefined,
    q: text(s.q),
    status: s.status === 'open' || s.status === 'closed' ? s.status : undefined,
    pipelineId: id(s.pipelineId),
    stageId: id(s.stageId),
    priority: (PRIORITIES as readonly unknown[]).includes(s.priority) ? (s.priority as Priority) : undefined,
    owner: owner === 'me' || owner === 'none' || id(owner) !== undefined ? owner : undefined,
    contactId: id(s.contactId),
    companyId: id(s.companyId),
    createdFrom: day(s.createdFrom),
    createdTo: day(s.createdTo),
    activityFrom: day(s.activityFrom),
    activityTo: day(s.activityTo),
    prop: typeof s.prop === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(s.prop) ? s.prop : undefined,
    propValue: text(s.propValue),
    sort: (SORTS as readonly unknown[]).includes(s.sort) ? (s.sort as string) : undefined,
    cols: text(s.cols),
  };
}

export function columnsOf(search: TicketsSearch): string[] {
  return search.cols === undefined ? DEFAULT_COLUMNS : search.cols.split(',').filter((c) => c !== '');
}

/** A day in the browser's zone as the instant it starts; `next` for the day after (an exclusive end). */
function startOf(d: string, next = false): string {
  const at = new Date(`${d}T00:00:00`);
  if (next) at.setDate(at.getDate() + 1);
  return at.toISOString();
}
function dayOf(isoValue: string, before = false): string {
  const at = new Date(isoValue);
  if (before) at.setDate(at.getDate() - 1);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/** The filters only (no view, mode, sort or columns). */
export const FILTER_KEYS = ['q', 'status', 'pipelineId', 'stageId', 'priority', 'owner', 'contactId', 'companyId', 'createdFrom', 'createdTo', 'activityFrom', 'activityTo', 'prop', 'propValue'] as const;

export function hasFilters(search: TicketsSearch): boolean {
  return FILTER_KEYS.some((k) => search[k] !== undefined);
}

/**
 * The list API's query for the screen's state. `propertyType` types a custom property's value;
 * `include` asks for names and custom values when the columns show them.
 */
export function listQuery(search: TicketsSearch, meId: number, propertyType: (key: string) => string | undefined, columns: string[]): ListQuery {
  const q: ListQuery = {};
  if (search.q !== undefined) q.q = search.q;
  if (search.status !== undefined) q.status = search.status;
  if (search.pipelineId !== undefined) q.pipelineId = search.pipelineId;
  if (search.stageId !== undefined) q.stageId = search.stageId;
  if (search.priority !== undefined) q.priority = search.priority;
  if (search.owner === 'me') q.ownerId = meId;
  else if (search.owner === 'none') q.unassigned = true;
  else if (search.owner !== undefined) q.ownerId = Number(search.owner);
  if (search.contactId !== undefined) q.contactId = search.contactId;
  if (search.companyId !== undefined) q.companyId = search.companyId;
  if (search.createdFrom !== undefined) q.createdFrom = startOf(search.createdFrom);
  if (search.createdTo !== undefined) q.createdTo = startOf(search.createdTo, true);
  if (search.activityFrom !== undefined) q.activityFrom = startOf(search.activityFrom);
  if (search.activityTo !== undefined) q.activityTo = startOf(search.activityTo, true);
  if (search.prop !== undefined && search.propValue !== undefined) {
    const type = propertyType(search.prop);
    const value = type === 'number' ? Number(search.propValue) : type === 'boolean' ? search.propValue === 'true' : search.propValue;
    q.filter = JSON.stringify([{ property: `properties.${search.prop}`, operator: 'is', value }]);
  }
  if (search.sort !== undefined) q.sort = search.sort;
  const include = [columns.includes('contact') || columns.includes('company') ? 'people' : '', columns.some((c) => c.startsWith('properties.')) ? 'properties' : ''].filter((x) => x !== '');
  if (include.length > 0) q.include = include.join(',');
  return q;
}

/** A saved view's filters as the screen's state. */
export function searchOfView(view: TicketView): TicketsSearch {
  const f = view.filters;
  const condition = f.conditions?.find((c) => c.property.startsWith('properties.') && c.operator === 'is' && c.value !== undefined);
  return {
    view: view.id,
    q: f.q,
    status: f.status,
    pipelineId: f.pipelineId,
    stageId: f.stageId,
    priority: f.priority,
    owner: f.owner === undefined ? undefined : String(f.owner),
    contactId: f.contactId,
    companyId: f.companyId,
    createdFrom: f.createdFrom === undefined ? undefined : dayOf(f.createdFrom),
    createdTo: f.createdTo === undefined ? undefined : dayOf(f.createdTo, true),
    activityFrom: f.activityFrom === undefined ? undefined : dayOf(f.activityFrom),
    activityTo: f.activityTo === undefined ? undefined : dayOf(f.activityTo, true),
    prop: condition === undefined ? undefined : condition.property.slice('properties.'.length),
    propValue: condition?.value === undefined ? undefined : String(condition.value),
    sort: view.sort ?? undefined,
    cols: view.columns === null ? undefined : view.columns.join(','),
  };
}

/** The screen's state as a saved view's filters. */
export function viewFiltersOf(search: TicketsSearch, propertyType: (key: string) => string | undefined): ViewFilters {
  const f: ViewFilters = {};
  if (search.q !== undefined) f.q = search.q;
  if (search.status !== undefined) f.status = search.status;
  if (search.pipelineId !== undefined) f.pipelineId = search.pipelineId;
  if (search.stageId !== undefined) f.stageId = search.stageId;
  if (search.priority !== undefined) f.priority = search.priority;
  if (search.owner !== undefined) f.owner = search.owner === 'me' || search.owner === 'none' ? search.owner : Number(search.owner);
  if (search.contactId !== undefined) f.contactId = search.contactId;
  if (search.companyId !== undefined) f.companyId = search.companyId;
  if (search.createdFrom !== undefined) f.createdFrom = startOf(search.createdFrom);
  if (search.createdTo !== undefined) f.createdTo = startOf(search.createdTo, true);
  if (search.activityFrom !== undefined) f.activityFrom = startOf(search.activityFrom);
  if (search.activityTo !== undefined) f.activityTo = startOf(search.activityTo, true);
  if (search.prop !== undefined && search.propValue !== undefined) {
    const type = propertyType(search.prop);
    f.conditions = [{ property: `properties.${search.prop}`, operator: 'is', value: type === 'number' ? Number(search.propValue) : type === 'boolean' ? search.propValue === 'true' : search.propValue }];
  }
  return f;
}
