import type { Conn, Tx } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { RowUpdate } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { emailKey } from '../../util/email.js';
import type { TimelineService } from '../timeline/timeline.service.js';
import * as repo from './contacts.repository.js';
import { requireCompanies } from './references.js';
import type { ListsService } from './lists.service.js';

export interface ContactInput {
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  primaryCompanyId?: number | null;
  companyIds?: number[];
}

export type ContactPatch = Partial<Omit<ContactInput, 'companyIds'>>;

const emailTaken = () => errors.conflict('EMAIL_TAKEN', 'A contact with this email already exists.');
const blankToNull = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === '' ? null : v.trim());

/** Contacts and their companies (C1). Every change re-checks the contact's active lists. */
export class ContactsService {
  constructor(
    private readonly deps: Deps,
    private readonly lists: ListsService,
    private readonly timeline: TimelineService,
  ) {}

  create(input: ContactInput): Promise<repo.ContactRow> {
    return this.deps.db.transaction().execute((tx) => this.createIn(tx, input));
  }

  /** Creates a contact in the caller's transaction (a registration makes one with its member). */
  async createIn(tx: Tx, input: ContactInput): Promise<repo.ContactRow> {
    const now = this.deps.clock.now();
    const primary = input.primaryCompanyId ?? null;
    const companies = [...new Set([...(primary === null ? [] : [primary]), ...(input.companyIds ?? [])])];
    await requireCompanies(tx, companies, '/body/companyIds');
    let contact: repo.ContactRow;
    try {
      contact = await repo.insertContact(tx, {
        email: input.email.trim(),
        email_key: emailKey(input.email),
        first_name: blankToNull(input.firstName) ?? null,
        last_name: blankToNull(input.lastName) ?? null,
        phone: blankToNull(input.phone) ?? null,
        primary_company_id: primary,
        created_at: now,
        updated_at: now,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
    for (const companyId of companies) await repo.linkCompany(tx, contact.id, companyId, now);
    await this.lists.refreshContact(tx, contact.id);
    return contact;
  }

  async get(id: number, db: Conn = this.deps.db): Promise<repo.ContactRow> {
    const contact = await repo.findContactById(db, id);
    if (contact === undefined) throw errors.notFound('contact');
    return contact;
  }

  /** Name and email of each of these contacts, by id, in one query (lists that show who). */
  async summaries(ids: number[]): Promise<Map<number, { id: number; email: string; name: string }>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await this.deps.db.selectFrom('contacts').select(['id', 'email', 'first_name', 'last_name']).where('id', 'in', unique).execute();
    return new Map(rows.map((r) => {
      const name = [r.first_name, r.last_name].filter((p) => p !== null && p !== '').join(' ');
      return [r.id, { id: r.id, email: r.email, name: name === '' ? r.email : name }];
    }));
  }

  findByEmail(email: string, db: Conn = this.deps.db): Promise<repo.ContactRow | undefined> {
    return repo.findContactByEmailKey(db, emailKey(email));
  }

  update(id: number, patch: ContactPatch): Promise<repo.ContactRow> {
    return this.deps.db.transaction().execute((tx) => this.updateIn(tx, id, patch));
  }

  /** Changes a contact in the caller's transaction (a member confirming a new email address). */
  async updateIn(tx: Tx, id: number, patch: ContactPatch): Promise<repo.ContactRow> {
    const now = this.deps.clock.now();
    await this.get(id, tx);
    const set: RowUpdate<'contacts'> = { updated_at: now };
    if (patch.email !== undefined) {
      set.email = patch.email.trim();
      set.email_key = emailKey(patch.email);
    }
    if (patch.firstName !== undefined) set.first_name = blankToNull(patch.firstName) ?? null;
    if (patch.lastName !== undefined) set.last_name = blankToNull(patch.lastName) ?? null;
    if (patch.phone !== undefined) set.phone = blankToNull(patch.phone) ?? null;
    if (patch.primaryCompanyId !== undefined) {
      if (patch.primaryCompanyId !== null) await requireCompanies(tx, [patch.primaryCompanyId], '/body/primaryCompanyId');
      set.primary_company_id = patch.primaryCompanyId;
    }
    let contact: repo.ContactRow | undefined;
    try {
      contact = await repo.updateContact(tx, id, set);
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
    if (contact === undefined) throw errors.notFound('contact');
    // The primary company is always among the contact's companies.
    if (contact.primary_company_id !== null) await repo.linkCompany(tx, id, contact.primary_company_id, now);
    await this.lists.refreshContact(tx, id);
    return contact;
  }

  async delete(id: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await repo.deleteContact(tx, id))) throw errors.notFound('contact');
      await this.timeline.forgetTarget(tx, 'contact', id);
    });
  }

  async linkCompany(contactId: number, companyId: number): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      await this.get(contactId, tx);
      await requireCompanies(tx, [companyId], '/body/companyId');
      await repo.linkCompany(tx, contactId, companyId, now);
      await repo.updateContact(tx, contactId, { updated_at: now });
      await this.lists.refreshContact(tx, contactId);
    });
  }

  /** Removing the primary company also clears the primary. */
  async unlinkCompany(contactId: number, companyId: number): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const contact = await this.get(contactId, tx);
      if (!(await repo.unlinkCompany(tx, contactId, companyId))) throw errors.notFound('company association');
      await repo.updateContact(tx, contactId, {
        updated_at: now,
        ...(contact.primary_company_id === companyId ? { primary_company_id: null } : {}),
      });
      await this.lists.refreshContact(tx, contactId);
    });
  }
}

/** Companies (C1). */
export class CompaniesService {
  constructor(
    private readonly deps: Deps,
    private readonly timeline: TimelineService,
  ) {}

  create(input: { name: string; domain?: string | null }): Promise<repo.CompanyRow> {
    const now = this.deps.clock.now();
    return repo.insertCompany(this.deps.db, { name: input.name.trim(), domain: input.domain?.toLowerCase() ?? null, created_at: now, updated_at: now });
  }

  async get(id: number): Promise<repo.CompanyRow> {
    const company = await repo.findCompanyById(this.deps.db, id);
    if (company === undefined) throw errors.notFound('company');
    return company;
  }

  async update(id: number, patch: { name?: string; domain?: string | null }): Promise<repo.CompanyRow> {
    const set: RowUpdate<'companies'> = { updated_at: this.deps.clock.now() };
    if (patch.name !== undefined) set.name = patch.name.trim();
    if (patch.domain !== undefined) set.domain = patch.domain?.toLowerCase() ?? null;
    const company = await repo.updateCompany(this.deps.db, id, set);
    if (company === undefined) throw errors.notFound('company');
    return company;
  }

  /** Contacts lose the association (and the primary, if it was this one); their active lists are re-checked. */
  async delete(id: number, lists: ListsService): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const members = await tx.selectFrom('contact_companies').select('contact_id').where('company_id', '=', id).execute();
      if (!(await repo.deleteCompany(tx, id))) throw errors.notFound('company');
      await this.timeline.forgetTarget(tx, 'company', id);
      for (const m of members) await lists.refreshContact(tx, m.contact_id);
    });
  }
}
