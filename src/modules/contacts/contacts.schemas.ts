import { Type } from 'typebox';
import { Email, Id, Line, Nullable, PageQuery, Timestamp } from '../../http/common-schemas.js';
import { Conditions } from '../filters/filters.js';

const Name = Nullable(Line({ minLength: 0, maxLength: 200 }));

export const Contact = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  primaryCompanyId: Nullable(Type.Integer()),
  companyIds: Type.Array(Type.Integer(), { description: 'Every associated company, the primary one included.' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const ContactCreate = Type.Object(
  {
    email: Email,
    firstName: Type.Optional(Name),
    lastName: Type.Optional(Name),
    phone: Type.Optional(Nullable(Line({ minLength: 0, maxLength: 50 }))),
    primaryCompanyId: Type.Optional(Nullable(Id)),
    companyIds: Type.Optional(Type.Array(Id, { maxItems: 100, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const ContactUpdate = Type.Object(
  {
    email: Type.Optional(Email),
    firstName: Type.Optional(Name),
    lastName: Type.Optional(Name),
    phone: Type.Optional(Nullable(Line({ minLength: 0, maxLength: 50 }))),
    primaryCompanyId: Type.Optional(Nullable(Id)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ContactListQuery = Type.Object(
  {
    ...PageQuery,
    sort: Type.Optional(Type.String({ maxLength: 40 })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'Emails starting with this text.' })),
    companyId: Type.Optional(Id),
    listId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const Company = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  domain: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const Domain = Nullable(Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,62}\\.)*[A-Za-z0-9-]{1,63}$', 'x-hint': 'Enter a domain name, like example.com.' }));

export const CompanyCreate = Type.Object(
  { name: Line({ maxLength: 200 }), domain: Type.Optional(Domain) },
  { additionalProperties: false },
);
export const CompanyUpdate = Type.Object(
  { name: Type.Optional(Line({ maxLength: 200 })), domain: Type.Optional(Domain) },
  { additionalProperties: false, minProperties: 1 },
);
export const CompanyListQuery = Type.Object(
  {
    ...PageQuery,
    sort: Type.Optional(Type.String({ maxLength: 40 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Names starting with this text.' })),
    domain: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  },
  { additionalProperties: false },
);

export const CompanyLink = Type.Object({ companyId: Id }, { additionalProperties: false });
export const ContactCompanyParams = Type.Object({ id: Id, companyId: Id }, { additionalProperties: false });

export const ContactList = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  kind: Type.Enum(['static', 'active']),
  filters: Conditions,
  memberCount: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const ContactListCreate = Type.Object(
  {
    name: Line({ maxLength: 200 }),
    kind: Type.Enum(['static', 'active']),
    filters: Type.Optional(Conditions),
  },
  { additionalProperties: false },
);
export const ContactListUpdate = Type.Object(
  { name: Type.Optional(Line({ maxLength: 200 })), filters: Type.Optional(Conditions) },
  { additionalProperties: false, minProperties: 1 },
);
export const ListsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export const ListMembersAdd = Type.Object(
  { contactIds: Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true }) },
  { additionalProperties: false },
);
export const ListMemberParams = Type.Object({ id: Id, contactId: Id }, { additionalProperties: false });
