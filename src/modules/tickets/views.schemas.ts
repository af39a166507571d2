import { Type, type Static } from 'typebox';
import { Id, Line, Nullable, Timestamp } from '../../http/common-schemas.js';
import { Conditions } from '../filters/filters.js';
import { Priority } from './tickets.schemas.js';

/** What a saved view filters on: the ticket list's filters, with the owner as "me" (whoever opens it), "none", or a staff member. */
export const TicketViewFilters = Type.Object(
  {
    status: Type.Optional(Type.Enum(['open', 'closed'])),
    pipelineId: Type.Optional(Id),
    stageId: Type.Optional(Id),
    priority: Type.Optional(Priority),
    owner: Type.Optional(Type.Union([Type.Enum(['me', 'none']), Id], { description: '"me": whoever opens the view; "none": tickets without an owner; or a staff member.' })),
    contactId: Type.Optional(Id),
    companyId: Type.Optional(Id),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
    createdTo: Type.Optional(Type.String({ format: 'date-time' })),
    activityFrom: Type.Optional(Type.String({ format: 'date-time' })),
    activityTo: Type.Optional(Type.String({ format: 'date-time' })),
    conditions: Type.Optional(Conditions),
  },
  { additionalProperties: false },
);
export type TicketViewFiltersT = Static<typeof TicketViewFilters>;

const Column = Type.String({ pattern: '^(subject|contact|company|pipeline|stage|status|priority|owner|createdAt|lastActivityAt|properties\\.[a-z][a-z0-9_]{0,63})$', 'x-hint': 'Choose a column the ticket list has: subject, contact, company, pipeline, stage, status, priority, owner, created, last activity or a custom property.' });
const Columns = Type.Array(Column, { minItems: 1, maxItems: 30, uniqueItems: true, description: 'The columns shown, in order: subject, contact, company, pipeline, stage, status, priority, owner, createdAt, lastActivityAt, or properties.<key> for a custom property.' });
const Sort = Type.String({ pattern: '^-?(lastActivityAt|createdAt|subject)$', 'x-hint': 'Sort by last activity, created or subject, newest or oldest first.' });

export const TicketView = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  shared: Type.Boolean({ description: 'Seen by every staff member; otherwise only by whoever made it.' }),
  builtIn: Type.Boolean({ description: 'One of the views everyone starts with; it cannot be changed.' }),
  canChange: Type.Boolean({ description: 'Whether you may rename, change or delete it.' }),
  filters: TicketViewFilters,
  sort: Nullable(Type.String()),
  columns: Nullable(Type.Array(Type.String())),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const TicketViewCreate = Type.Object(
  {
    name: Line({ maxLength: 100 }),
    shared: Type.Optional(Type.Boolean({ description: 'Share it with every staff member (needs the settings permission). Default: yours alone.' })),
    filters: TicketViewFilters,
    sort: Type.Optional(Nullable(Sort)),
    columns: Type.Optional(Nullable(Columns)),
  },
  { additionalProperties: false },
);
export type TicketViewCreateT = Static<typeof TicketViewCreate>;

export const TicketViewUpdate = Type.Object(
  {
    name: Type.Optional(Line({ maxLength: 100 })),
    filters: Type.Optional(TicketViewFilters),
    sort: Type.Optional(Nullable(Sort)),
    columns: Type.Optional(Nullable(Columns)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type TicketViewUpdateT = Static<typeof TicketViewUpdate>;
