import type { Tx } from '../../db/database.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { isLanguage } from '../i18n/catalogue.js';
import type { TranslationsService } from '../i18n/translations.service.js';
import type { MemberAccountService } from './account.service.js';
import type { Translator } from '../i18n/translator.js';
import type { PortalRow } from '../portal/portals.service.js';

/** Which contacts to look at: those of one portal, of one list, or these. */
export interface InvitationScope {
  portalId?: number;
  listId?: number;
  contactIds?: number[];
}

/**
 * P10: every contact on one of an enabled portal's access lists has a sign-in there. A contact
 * who has none gets one (no password yet) and an invitation by mail with a link to set a
 * password, valid seven days. Run in the transaction of whatever changed: the portal's lists
 * or its enable switch, a static list's members, an active list's filters, a contact.
 */
export class InvitationsService {
  constructor(
    private readonly deps: Deps,
    private readonly account: MemberAccountService,
    private readonly translations: TranslationsService,
  ) {}

  /** Invites the contacts in `scope` who lack a sign-in on a portal whose lists hold them; returns how many. */
  async inviteMissing(tx: Tx, scope: InvitationScope): Promise<number> {
    if (scope.contactIds?.length === 0) return 0;
    let q = tx.selectFrom('portal_access_lists as pal')
      .innerJoin('portals as p', 'p.id', 'pal.portal_id')
      .innerJoin('list_members as lm', 'lm.list_id', 'pal.list_id')
      .innerJoin('contacts as c', 'c.id', 'lm.contact_id')
      .select(['p.id as portal_id', 'c.id as contact_id', 'c.email', 'c.first_name', 'c.last_name'])
      .distinct()
      .where('p.enabled', '=', 1)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('members as m').select('m.id').whereRef('m.portal_id', '=', 'pal.portal_id').whereRef('m.contact_id', '=', 'lm.contact_id'))));
    if (scope.portalId !== undefined) q = q.where('pal.portal_id', '=', scope.portalId);
    if (scope.listId !== undefined) q = q.where('pal.list_id', '=', scope.listId);
    if (scope.contactIds !== undefined) q = q.where('lm.contact_id', 'in', scope.contactIds);
    const missing = await q.orderBy('p.id').orderBy('c.id').execute();
    const now = this.deps.clock.now();
    // Rows come ordered by portal: its row and translator are read once per portal, not per contact.
    let current: { portal: PortalRow; tr: Translator } | undefined;
    for (const row of missing) {
      if (current?.portal.id !== row.portal_id) {
        const portal = await tx.selectFrom('portals').selectAll().where('id', '=', row.portal_id).executeTakeFirstOrThrow();
        current = { portal, tr: await this.translations.translator(portal, isLanguage(portal.language) ? portal.language : 'en', tx) };
      }
      const member = await tx.insertInto('members').values({ portal_id: row.portal_id, contact_id: row.contact_id, password_hash: null, created_at: now, updated_at: now })
        .returning('id').executeTakeFirstOrThrow();
      await this.account.inviteIn(tx, current.portal, { id: member.id, email: row.email, first_name: row.first_name, last_name: row.last_name }, current.tr);
    }
    return missing.length;
  }

  /** Staff send a member who has not set a password yet a new invitation; the old link stops working. */
  async resend(portalId: number, memberId: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const member = await tx.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
        .select(['m.id', 'm.password_hash', 'm.disabled_at', 'c.email', 'c.first_name', 'c.last_name'])
        .where('m.id', '=', memberId).where('m.portal_id', '=', portalId).executeTakeFirst();
      if (member === undefined) throw errors.notFound('member');
      if (member.password_hash !== null) throw errors.conflict('MEMBER_HAS_PASSWORD', 'The member has set a password already; they can reset it from the sign-in page.');
      if (member.disabled_at !== null) throw errors.conflict('MEMBER_DISABLED', 'The member is disabled.');
      const portal = await tx.selectFrom('portals').selectAll().where('id', '=', portalId).executeTakeFirstOrThrow();
      const tr = await this.translations.translator(portal, isLanguage(portal.language) ? portal.language : 'en', tx);
      await this.account.inviteIn(tx, portal, member, tr);
    });
  }
}
