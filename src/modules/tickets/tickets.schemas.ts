import { Type, type Static } from 'typebox';
import { Id, Line, Nullable, NullableTimestamp, PageQuery, Timestamp } from '../../http/common-schemas.js';
import { Translations } from '../i18n/admin-text.js';

export const StageState = Type.Enum(['open', 'closed']);

/** A stage's name in other languages: what a portal that shows custom stages (P33) says to its visitors. */
const StageTranslations = Translations(Type.Object({ name: Type.Optional(Line({ minLength: 0, maxLength: 100 })) }, { additionalProperties: false }), 'The stage’s name, as portals that show custom stages say it,');

export const Stage = Type.Object({
  id: Type.Integer(),
  pipelineId: Type.Integer(),
  name: Type.String(),
  position: Type.Integer(),
  state: StageState,
  translations: StageTranslations,
});

export const Pipeline = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  position: Type.Integer(),
  stages: Type.Array(Stage),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const StageInput = Type.Object({ name: Line({ maxLength: 100 }), state: StageState }, { additionalProperties: false });

export const PipelineCreate = Type.Object(
  {
    name: Line({ maxLength: 100 }),
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
    stages: Type.Array(StageInput, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);
export const PipelineUpdate = Type.Object(
  { name: Type.Optional(Line({ maxLength: 100 })), position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })) },
  { additionalProperties: false, minProperties: 1 },
);
export const StageCreate = Type.Object(
  { name: Line({ maxLength: 100 }), state: StageState, position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })), translations: Type.Optional(StageTranslations) },
  { additionalProperties: false },
);
export const StageUpdate = Type.Object(
  { name: Type.Optional(Line({ maxLength: 100 })), state: Type.Optional(StageState), position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })), translations: Type.Optional(StageTranslations) },
  { additionalProperties: false, minProperties: 1 },
);
export const StageParams = Type.Object({ id: Id, stageId: Id }, { additionalProperties: false });

export const PropertyType = Type.Enum(['text', 'number', 'boolean', 'date', 'enumeration']);
const PropertyOption = Type.Object({ value: Line({ maxLength: 100 }), label: Line({ maxLength: 200 }) }, { additionalProperties: false });

export const TicketProperty = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  label: Type.String(),
  type: PropertyType,
  options: Type.Array(Type.Object({ value: Type.String(), label: Type.String() })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const PROPERTY_KEY_HINT = 'Start with a lower-case letter, then use lower-case letters, digits and underscores, at most 64 in all, like plan or region2.';
export const TicketPropertyCreate = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', 'x-hint': PROPERTY_KEY_HINT, description: 'Lower-case letters, digits and _; fixed once created.' }),
    label: Line({ maxLength: 200 }),
    type: PropertyType,
    options: Type.Optional(Type.Array(PropertyOption, { maxItems: 200 })),
  },
  { additionalProperties: false },
);
export const TicketPropertyUpdate = Type.Object(
  { label: Type.Optional(Line({ maxLength: 200 })), options: Type.Optional(Type.Array(PropertyOption, { maxItems: 200 })) },
  { additionalProperties: false, minProperties: 1 },
);
export const TicketPropertyQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

export const Priority = Type.Enum(['low', 'medium', 'high', 'urgent']);
export const Source = Type.Enum(['email', 'form', 'chat', 'portal', 'phone', 'api']);
const PropertyValue = Type.Unsafe<string | number | boolean | null>({ type: ['string', 'number', 'boolean', 'null'], maxLength: 10000 });
const CustomValues = Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', 'x-hint': PROPERTY_KEY_HINT }), PropertyValue, { maxProperties: 200 });

/** A ticket as lists show it: everything but the description, custom values and associations. */
const summaryFields = {
  id: Type.Integer(),
  subject: Type.String(),
  pipelineId: Type.Integer(),
  stageId: Type.Integer(),
  status: Type.Enum(['open', 'closed']),
  priority: Nullable(Priority),
  category: Nullable(Type.String()),
  source: Source,
  ownerId: Nullable(Type.Integer()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastActivityAt: Timestamp,
  closedAt: NullableTimestamp,
};
export const TicketSummary = Type.Object(summaryFields);

const Named = Type.Object({ id: Type.Integer(), name: Type.String() });
/** A list's item: the summary, and with `include=people` the names of its contacts and companies. */
export const TicketListItem = Type.Object({
  ...summaryFields,
  contacts: Type.Optional(Type.Array(Named, { description: 'With include=people: the contacts, by name (or email).' })),
  companies: Type.Optional(Type.Array(Named, { description: 'With include=people: the companies, by name.' })),
  properties: Type.Optional(Type.Record(Type.String(), PropertyValue, { description: 'With include=properties: the custom values.' })),
});

/** A whole ticket: its summary, plus description, custom values and associations. */
export const Ticket = Type.Object({
  ...summaryFields,
  description: Nullable(Type.String()),
  properties: Type.Record(Type.String(), PropertyValue),
  contactIds: Type.Array(Type.Integer()),
  companyIds: Type.Array(Type.Integer()),
});

export const TicketCreate = Type.Object(
  {
    subject: Line({ maxLength: 300 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 100000, description: "What the customer asks. It also starts the ticket's conversation: a first message, in the customer's name, that the customer sees on the portal." }))),
    inboxId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: "The inbox of that conversation. By default: an inbox that files tickets into the ticket's pipeline, else a customer portal's default inbox, else the first inbox." })),
    pipelineId: Id,
    stageId: Type.Optional(Id),
    priority: Type.Optional(Nullable(Priority)),
    category: Type.Optional(Nullable(Line({ minLength: 0, maxLength: 100 }))),
    source: Type.Optional(Source),
    ownerId: Type.Optional(Nullable(Id)),
    properties: Type.Optional(CustomValues),
    contactIds: Type.Optional(Type.Array(Id, { maxItems: 100, uniqueItems: true })),
    companyIds: Type.Optional(Type.Array(Id, { maxItems: 100, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const TicketUpdate = Type.Object(
  {
    subject: Type.Optional(Line({ maxLength: 300 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 100000 }))),
    pipelineId: Type.Optional(Id),
    stageId: Type.Optional(Id),
    priority: Type.Optional(Nullable(Priority)),
    category: Type.Optional(Nullable(Line({ minLength: 0, maxLength: 100 }))),
    ownerId: Type.Optional(Nullable(Id)),
    properties: Type.Optional(CustomValues),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const TicketListQuery = Type.Object(
  {
    ...PageQuery,
    sort: Type.Optional(Type.String({ maxLength: 40 })),
    contactId: Type.Optional(Id),
    companyId: Type.Optional(Id),
    pipelineId: Type.Optional(Id),
    stageId: Type.Optional(Id),
    ownerId: Type.Optional(Id),
    status: Type.Optional(Type.Enum(['open', 'closed'])),
    priority: Type.Optional(Priority),
    unassigned: Type.Optional(Type.Boolean({ description: 'true: only tickets without an owner; false: only tickets with one.' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Words in the subject or the conversation the customer sees (the last word may be unfinished).' })),
    createdFrom: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after this time.' })),
    createdTo: Type.Optional(Type.String({ format: 'date-time', description: 'Created before this time.' })),
    activityFrom: Type.Optional(Type.String({ format: 'date-time', description: 'Last activity at or after this time.' })),
    activityTo: Type.Optional(Type.String({ format: 'date-time', description: 'Last activity before this time.' })),
    include: Type.Optional(Type.String({ pattern: '^(people|properties)(,(people|properties))?$', 'x-hint': 'Ask for people, properties, or both separated by a comma.', description: 'Comma-separated: people (each item also names its contacts and companies), properties (each item also carries its custom values).' })),
    filter: Type.Optional(Type.String({
      minLength: 2, maxLength: 4000,
      description: 'More conditions, as a JSON array in the language of filter rules (see /api/v1/filter-properties/tickets): e.g. [{"property":"properties.plan","operator":"is","value":"gold"}]. Every condition must hold.',
    })),
  },
  { additionalProperties: false },
);
export type TicketListQueryT = Static<typeof TicketListQuery>;

export const ContactLink = Type.Object({ contactId: Id }, { additionalProperties: false });
export const CompanyLink = Type.Object({ companyId: Id }, { additionalProperties: false });
export const TicketContactParams = Type.Object({ id: Id, contactId: Id }, { additionalProperties: false });
export const TicketCompanyParams = Type.Object({ id: Id, companyId: Id }, { additionalProperties: false });
