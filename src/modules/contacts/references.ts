import type { Conn } from '../../db/database.js';
import { errors } from '../../errors.js';
import { existingCompanyIds, existingContactIds } from './contacts.repository.js';

/** Refuses (422) ids of contacts that do not exist, naming each in the request. */
export async function requireContacts(db: Conn, ids: number[], path: string): Promise<void> {
  const found = await existingContactIds(db, ids);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw errors.unprocessable('CONTACT_NOT_FOUND', 'A contact given does not exist.', missing.map((id) => ({ path, message: `There is no contact ${id}: choose one that exists.` })));
}

/** Refuses (422) ids of companies that do not exist, naming each in the request. */
export async function requireCompanies(db: Conn, ids: number[], path: string): Promise<void> {
  const found = await existingCompanyIds(db, ids);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw errors.unprocessable('COMPANY_NOT_FOUND', 'A company given does not exist.', missing.map((id) => ({ path, message: `There is no company ${id}: choose one that exists.` })));
}
