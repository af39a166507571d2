import type { Static } from 'typebox';
import { iso } from '../../http/common-schemas.js';
import type { CompanyRow, ContactRow, ListRow } from './contacts.repository.js';
import type { Company, Contact, ContactList } from './contacts.schemas.js';
import { filtersOf } from './lists.service.js';

export function presentContact(row: ContactRow, companyIds: number[]): Static<typeof Contact> {
  return {
    id: row.id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    phone: row.phone,
    primaryCompanyId: row.primary_company_id,
    companyIds,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function presentCompany(row: CompanyRow): Static<typeof Company> {
  return { id: row.id, name: row.name, domain: row.domain, createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}

export function presentList(row: ListRow, memberCount: number): Static<typeof ContactList> {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    filters: filtersOf(row),
    memberCount,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}
