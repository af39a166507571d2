import { isIP } from 'node:net';
import type { Static } from 'typebox';
import type { Conn, Tx } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { Row, RowUpdate } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors, type FieldError } from '../../errors.js';
import { hashPassword } from '../../security/secrets.js';
import type { AccessService } from '../access/access.service.js';
import type { PortalHosts } from './hosts.js';
import { compileConditions, validateConditions, type ConditionT } from '../filters/filters.js';
import type { PortalCreate, PortalUpdate } from './portals.schemas.js';
import { readJsonArray, readJsonObject } from '../../util/json.js';
import { canonicalTimeZone } from '../i18n/translator.js';
import { endMemberAccess } from '../members/access-lists.js';
import { checkLanguages, storeTranslations } from '../i18n/admin-text.js';

export type PortalRow = Row<'portals'>;
export type MemberRow = Row<'members'>;
type Settings = Omit<Static<typeof PortalUpdate>, 'enabled' | 'name' | 'accessListIds' | 'ssoListIds'>;
/** The two kinds of contact lists a portal names: invitations and access (P10), single sign-on audience (P13). */
export type PortalListTable = 'portal_access_lists' | 'portal_sso_lists';
/** Told, in the same transaction, when a portal's access lists or enable switch changed (P10 invitations). */
export type AccessHook = (tx: Tx, portalId: number) => Promise<unknown>;

/**
 * What a portal still lacks before it may be enabled (P4), as field paths and reasons;
 * `ssoProviders` is how many enabled identity providers it has.
 */
export function missingForEnable(portal: PortalRow, ssoProviders: number): FieldError[] {
  const missing: FieldError[] = [];
  const methods = readJsonArray<string>(portal.sign_in_methods);
  if (portal.domain === null) missing.push({ path: '/body/domain', message: 'Connect a domain.' });
  if (methods.length === 0) missing.push({ path: '/body/signInMethods', message: 'Choose at least one sign-in method.' });
  else if (methods.every((m) => m === 'sso') && ssoProviders === 0) missing.push({ path: '/body/signInMethods', message: 'Add an enabled single sign-on provider, or choose another sign-in method.' });
  if (portal.consent_text === null || portal.consent_text.trim() === '') missing.push({ path: '/body/consentText', message: 'Write the consent text.' });
  return missing;
}

/** Customer portals (P4-P7, P15-P20, P26, P39): settings, the enable checklist, members. */
export class PortalsService {
  constructor(
    private readonly deps: Deps,
    private readonly access: AccessService,
    private readonly hosts: PortalHosts,
  ) {}

  private accessHook: AccessHook | undefined;

  onAccessChange(hook: AccessHook): void {
    this.accessHook = hook;
  }

  /** The access lists (P10) or single sign-on lists (P13) of these portals, by portal id. */
  async accessLists(portalIds: number[], table: PortalListTable = 'portal_access_lists'): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>(portalIds.map((id) => [id, []]));
    if (portalIds.length === 0) return out;
    const rows = await this.deps.db.selectFrom(table).select(['portal_id', 'list_id']).where('portal_id', 'in', portalIds).orderBy('list_id').execute();
    for (const r of rows) out.get(r.portal_id)?.push(r.list_id);
    return out;
  }

  private async setLists(tx: Tx, table: PortalListTable, portalId: number, listIds: number[] | undefined): Promise<void> {
    if (listIds === undefined) return;
    const field = table === 'portal_access_lists' ? 'accessListIds' : 'ssoListIds';
    const found = listIds.length === 0 ? [] : await tx.selectFrom('contact_lists').select('id').where('id', 'in', listIds).execute();
    const missing = listIds.filter((id) => !found.some((f) => f.id === id));
    if (missing.length > 0) {
      throw errors.unprocessable('LIST_NOT_FOUND', 'Some lists do not exist.', missing.map((id) => ({ path: `/body/${field}/${listIds.indexOf(id)}`, message: `There is no list ${id}: choose one that exists.` })));
    }
    await tx.deleteFrom(table).where('portal_id', '=', portalId).execute();
    if (listIds.length > 0) await tx.insertInto(table).values(listIds.map((listId) => ({ portal_id: portalId, list_id: listId }))).execute();
  }

  /** How many enabled identity providers each of these portals has (for the enable checklist). */
  async enabledSsoProviders(portalIds: number[], db: Conn = this.deps.db): Promise<Map<number, number>> {
    const out = new Map<number, number>(portalIds.map((id) => [id, 0]));
    if (portalIds.length === 0) return out;
    const rows = await db.selectFrom('sso_providers').select(['portal_id', (eb) => eb.fn.countAll<number>().as('n')]).where('portal_id', 'in', portalIds).where('enabled', '=', 1).groupBy('portal_id').execute();
    for (const r of rows) out.set(r.portal_id, r.n);
    return out;
  }

  /**
   * How many tickets meet these filter rules right now, of how many (P15): what the settings
   * screen shows beside the rules. The rules are checked as a save would check them (422).
   */
  async countMatching(filters: ConditionT[]): Promise<{ matching: number; total: number }> {
    const catalogue = await this.access.ticketCatalogue();
    validateConditions(catalogue, filters, '/body/filters');
    const db = this.deps.db;
    const count = (q: ReturnType<typeof db.selectFrom<'tickets as t'>>) => q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    const total = await count(db.selectFrom('tickets as t'));
    const matching = filters.length === 0 ? total : await count(db.selectFrom('tickets as t').where(compileConditions(catalogue, filters)));
    return { matching: Number(matching.n), total: Number(total.n) };
  }

  async get(id: number, db: Conn = this.deps.db): Promise<PortalRow> {
    const row = await db.selectFrom('portals').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw errors.notFound('portal');
    return row;
  }

  list(): Promise<PortalRow[]> {
    return this.deps.db.selectFrom('portals').selectAll().orderBy('name').orderBy('id').execute();
  }

  /**
   * A portal's own host name: never an address (a portal is found by its name, and an address
   * is where the staff app and the API answer), never a name the staff app answers on.
   */
  private checkDomain(domain: string): void {
    const last = domain.split('.').at(-1) ?? '';
    if (isIP(domain) !== 0 || /^\d+$/.test(last)) {
      throw errors.unprocessable('DOMAIN_IS_ADDRESS', 'A portal needs a host name of its own, such as support.example.com, not an IP address.', [{ path: '/body/domain', message: 'Enter a host name, like support.example.com, not an IP address.' }]);
    }
    const staffHosts = new Set(['localhost', this.deps.config.publicAppUrl.hostname.toLowerCase(), this.deps.config.host.toLowerCase()]);
    if (staffHosts.has(domain)) {
      throw errors.unprocessable('DOMAIN_IS_STAFF_APP', 'A portal is served on its own host, never on one the staff app answers on.', [{ path: '/body/domain', message: 'Enter a host of the portal’s own: the staff app answers on this one.' }]);
    }
  }

  private async settingsToRow(db: Conn, s: Settings, current?: PortalRow): Promise<RowUpdate<'portals'>> {
    const set: RowUpdate<'portals'> = {};
    if (s.title !== undefined) set.title = s.title;
    if (s.domain !== undefined) {
      const domain = s.domain === null ? null : s.domain.toLowerCase();
      if (domain !== null) this.checkDomain(domain);
      set.domain = domain;
    }
    if (s.slug !== undefined) set.slug = s.slug;
    if (s.language !== undefined) set.language = s.language;
    if (s.languages !== undefined) set.languages = JSON.stringify(s.languages);
    if (s.timeZone !== undefined) {
      const zone = canonicalTimeZone(s.timeZone);
      if (zone === undefined) throw errors.validation([{ path: '/body/timeZone', message: 'Enter a time zone by its IANA name, like Europe/Warsaw or UTC.' }]);
      set.time_zone = zone;
    }
    if (s.scope !== undefined) set.scope = s.scope;
    if (s.filters !== undefined) {
      validateConditions(await this.access.ticketCatalogue(db), s.filters, '/body/filters');
      set.filters = JSON.stringify(s.filters);
    }
    if (s.defaultInboxId !== undefined) {
      if (s.defaultInboxId !== null && (await db.selectFrom('inboxes').select('id').where('id', '=', s.defaultInboxId).executeTakeFirst()) === undefined) {
        throw errors.unprocessable('INBOX_NOT_FOUND', 'The inbox does not exist.', [{ path: '/body/defaultInboxId', message: `There is no inbox ${s.defaultInboxId}: choose one that exists.` }]);
      }
      set.default_inbox_id = s.defaultInboxId;
    }
    if (s.showCustomStages !== undefined) set.show_custom_stages = s.showCustomStages ? 1 : 0;
    if (s.idleTimeoutMinutes !== undefined) set.idle_timeout_minutes = s.idleTimeoutMinutes;
    if (s.signInMethods !== undefined) set.sign_in_methods = JSON.stringify(s.signInMethods);
    if (s.selfRegistration !== undefined) set.self_registration = s.selfRegistration ? 1 : 0;
    if (s.ssoAudience !== undefined) set.sso_audience = s.ssoAudience;
    if (s.kbPortalLink !== undefined) set.kb_portal_link = s.kbPortalLink ? 1 : 0;
    if (s.kbInMenu !== undefined) set.kb_in_menu = s.kbInMenu ? 1 : 0;
    if (s.formId !== undefined) {
      if (s.formId !== null && (await db.selectFrom('forms').select('id').where('id', '=', s.formId).executeTakeFirst()) === undefined) {
        throw errors.unprocessable('FORM_NOT_FOUND', 'The form does not exist.', [{ path: '/body/formId', message: `There is no form ${s.formId}: choose one that exists.` }]);
      }
      set.form_id = s.formId;
    }
    if (s.consentText !== undefined) set.consent_text = s.consentText;
    if (s.consentLabel !== undefined) set.consent_label = s.consentLabel;
    if (s.branding !== undefined) set.branding = JSON.stringify(s.branding);
    if (s.menu !== undefined) set.menu = JSON.stringify(s.menu);
    if (s.translations !== undefined) {
      checkLanguages(s.translations);
      const items = s.menu?.length ?? (current === undefined ? 0 : readJsonArray(current.menu).length);
      const extra = Object.entries(s.translations).filter(([, t]) => (t.menuLabels?.length ?? 0) > items);
      if (extra.length > 0) throw errors.validation(extra.map(([language]) => ({ path: `/body/translations/${language}/menuLabels`, label: 'Menu labels', message: `Give at most one label for each of the menu’s ${items} links.` })));
      set.translations = storeTranslations(s.translations);
    }
    return set;
  }

  private domainTaken(error: unknown): never {
    if (isUniqueViolation(error)) throw errors.conflict('DOMAIN_TAKEN', 'Another portal already answers on this domain.');
    throw error;
  }

  async create(input: Static<typeof PortalCreate>): Promise<PortalRow> {
    const now = this.deps.clock.now();
    const { name, accessListIds, ssoListIds, ...settings } = input;
    const row = await this.deps.db.transaction().execute(async (tx) => {
      const set = await this.settingsToRow(tx, settings);
      let created: PortalRow;
      try {
        created = await tx.insertInto('portals').values({
          name,
          title: set.title ?? name,
          slug: set.slug ?? 'tickets',
          language: set.language ?? 'en',
          scope: set.scope ?? 'contact',
          idle_timeout_minutes: set.idle_timeout_minutes ?? 60,
          ...set,
          enabled: 0,
          created_at: now,
          updated_at: now,
        }).returningAll().executeTakeFirstOrThrow();
      } catch (error) {
        return this.domainTaken(error);
      }
      // A new portal is disabled: its lists' contacts are invited when it is enabled.
      await this.setLists(tx, 'portal_access_lists', created.id, accessListIds);
      await this.setLists(tx, 'portal_sso_lists', created.id, ssoListIds);
      return created;
    });
    // After the commit, so no request caches the host's old state in between.
    this.hosts.invalidate();
    return row;
  }

  /** Changes settings; enabling checks the result against the checklist in the same transaction. */
  async update(id: number, input: Static<typeof PortalUpdate>): Promise<PortalRow> {
    const updated = await this.deps.db.transaction().execute(async (tx) => {
      const current = await this.get(id, tx);
      const { name, enabled, accessListIds, ssoListIds, ...settings } = input;
      const set = await this.settingsToRow(tx, settings, current);
      // New branding keeps the uploaded logo: it changes only through setLogoFile.
      const logoFile = readJsonObject<{ logoFile?: unknown }>(current.branding).logoFile;
      if (settings.branding !== undefined && logoFile !== undefined) set.branding = JSON.stringify({ ...settings.branding, logoFile });
      await this.setLists(tx, 'portal_access_lists', id, accessListIds);
      await this.setLists(tx, 'portal_sso_lists', id, ssoListIds);
      if (name !== undefined) set.name = name;
      if (enabled !== undefined) set.enabled = enabled ? 1 : 0;
      set.updated_at = this.deps.clock.now();
      let row: PortalRow | undefined;
      try {
        row = await tx.updateTable('portals').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      } catch (error) {
        this.domainTaken(error);
      }
      if (row === undefined) throw errors.notFound('portal');
      const missing = missingForEnable(row, (await this.enabledSsoProviders([id], tx)).get(id) ?? 0);
      if (row.enabled === 1 && missing.length > 0) {
        throw errors.unprocessable('PORTAL_INCOMPLETE', `The portal cannot be enabled yet: ${missing.map((m) => m.message).join(', ')}.`, missing);
      }
      // New lists, or the portal enabled: their contacts are invited, in this transaction.
      if (accessListIds !== undefined || enabled === true) await this.accessHook?.(tx, id);
      return row;
    });
    this.hosts.invalidate();
    return updated;
  }

  /** Sets or clears the uploaded logo in the portal's branding (logo.service.ts checks the file). */
  async setLogoFile(id: number, file: { sha256: string; contentType: string } | null): Promise<PortalRow> {
    const row = await this.deps.db.transaction().execute(async (tx) => {
      const current = await this.get(id, tx);
      const { logoFile: _old, ...rest } = readJsonObject<Record<string, unknown>>(current.branding);
      const branding = file === null ? rest : { ...rest, logoFile: file };
      return tx.updateTable('portals').set({ branding: JSON.stringify(branding), updated_at: this.deps.clock.now() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    });
    this.hosts.invalidate();
    return row;
  }

  async delete(id: number): Promise<void> {
    const r = await this.deps.db.deleteFrom('portals').where('id', '=', id).executeTakeFirst();
    this.hosts.invalidate();
    if (r.numDeletedRows === 0n) throw errors.notFound('portal');
  }

  // Members

  async getMember(portalId: number, memberId: number, db: Conn = this.deps.db): Promise<MemberRow> {
    const row = await db.selectFrom('members').selectAll().where('id', '=', memberId).where('portal_id', '=', portalId).executeTakeFirst();
    if (row === undefined) throw errors.notFound('member');
    return row;
  }

  async listMembers(portalId: number, afterId: number | undefined, limit: number): Promise<MemberRow[]> {
    await this.get(portalId);
    let q = this.deps.db.selectFrom('members').selectAll().where('portal_id', '=', portalId);
    if (afterId !== undefined) q = q.where('id', '>', afterId);
    return q.orderBy('id').limit(limit + 1).execute();
  }

  /** A sign-in for a contact on a portal; one per contact per portal. */
  async createMember(portalId: number, contactId: number, password: string | undefined): Promise<MemberRow> {
    const passwordHash = password === undefined ? null : await hashPassword(password);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      await this.get(portalId, tx);
      if ((await tx.selectFrom('contacts').select('id').where('id', '=', contactId).executeTakeFirst()) === undefined) {
        throw errors.unprocessable('CONTACT_NOT_FOUND', 'The contact does not exist.', [{ path: '/body/contactId', message: `There is no contact ${contactId}: choose one that exists.` }]);
      }
      try {
        // Staff vouch for the address: the member needs no emailed link to prove it.
        return await tx.insertInto('members').values({ portal_id: portalId, contact_id: contactId, password_hash: passwordHash, verified_at: now, created_at: now, updated_at: now })
          .returningAll().executeTakeFirstOrThrow();
      } catch (error) {
        if (isUniqueViolation(error)) throw errors.conflict('MEMBER_EXISTS', 'This contact already has a sign-in on this portal.');
        throw error;
      }
    });
  }

  async updateMember(portalId: number, memberId: number, patch: { disabled?: boolean; password?: string }): Promise<MemberRow> {
    const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.getMember(portalId, memberId, tx);
      const set: RowUpdate<'members'> = { updated_at: this.deps.clock.now() };
      if (patch.disabled !== undefined) set.disabled_at = patch.disabled ? (current.disabled_at ?? this.deps.clock.now()) : null;
      if (passwordHash !== undefined) {
        set.password_hash = passwordHash;
        set.failed_sign_ins = 0;
        set.locked_until = null;
        // Staff who set the password vouch for the address, as when they make the member.
        if (current.verified_at === null) set.verified_at = this.deps.clock.now();
      }
      const row = await tx.updateTable('members').set(set).where('id', '=', memberId).returningAll().executeTakeFirstOrThrow();
      // Disabled: signed out everywhere, and no emailed link signs them in again once enabled.
      if (patch.disabled === true) await endMemberAccess(tx, this.deps.clock.now(), memberId);
      return row;
    });
  }

  async deleteMember(portalId: number, memberId: number): Promise<void> {
    await this.getMember(portalId, memberId);
    await this.deps.db.deleteFrom('members').where('id', '=', memberId).execute();
  }
}
