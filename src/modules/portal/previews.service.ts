import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { randomToken, sha256Hex } from '../../security/secrets.js';
import { portalUrl } from '../members/account.service.js';
import type { PortalRow, PortalsService } from './portals.service.js';

/** How long a preview link works, once; and how long the preview it opens lasts. */
export const PREVIEW_LINK_MS = 2 * 60_000;
export const PREVIEW_SESSION_MS = 30 * 60_000;

export interface PreviewRecord {
  id: number;
  memberId: number;
  contactEmail: string;
  staffUserId: number;
  staffName: string;
  createdAt: number;
  openedAt: number | null;
}

/**
 * "View customer portal" (P28, P30). The staff app asks for a link; the link carries a random
 * token (only its hash is kept) that works once, for two minutes, on the portal's own host,
 * where it becomes a read-only preview session under a banner. So the staff cookie never goes
 * to the portal host, and the portal never trusts anything but its own cookie. Every preview
 * stays on record: who looked, as whom, when.
 */
export class PreviewsService {
  constructor(private readonly deps: Deps, private readonly portals: PortalsService) {}

  async create(portalId: number, memberId: number, staffUserId: number): Promise<{ id: number; url: string; expiresAt: number }> {
    const portal = await this.portals.get(portalId);
    if (portal.enabled !== 1 || portal.domain === null) {
      throw errors.unprocessable('PORTAL_NOT_ENABLED', 'Only an enabled portal can be previewed: its pages answer on its domain only once it is on.', [{ path: '/params/id', message: 'Enable the portal first.' }]);
    }
    const member = await this.portals.getMember(portalId, memberId);
    const now = this.deps.clock.now();
    const token = randomToken(32);
    const row = await this.deps.db.insertInto('portal_previews').values({
      portal_id: portal.id, member_id: member.id, staff_user_id: staffUserId, link_hash: sha256Hex(token), link_expires_at: now + PREVIEW_LINK_MS, created_at: now,
    }).returning('id').executeTakeFirstOrThrow();
    return { id: row.id, url: portalUrl(this.deps, portal, `/preview/${token}`), expiresAt: now + PREVIEW_LINK_MS };
  }

  /** Uses a link: a new preview session token, or undefined for an unknown, used or expired link. */
  async open(portal: PortalRow, token: string): Promise<{ token: string; expiresAt: number } | undefined> {
    const now = this.deps.clock.now();
    const session = randomToken(32);
    const expiresAt = now + PREVIEW_SESSION_MS;
    const row = await this.deps.db.updateTable('portal_previews')
      .set({ opened_at: now, session_hash: sha256Hex(session), session_expires_at: expiresAt })
      .where('link_hash', '=', sha256Hex(token)).where('portal_id', '=', portal.id)
      .where('opened_at', 'is', null).where('link_expires_at', '>', now)
      .returning('id').executeTakeFirst();
    return row === undefined ? undefined : { token: session, expiresAt };
  }

  /** Ends a preview session now (its banner's link): the cookie stops working even if kept. */
  async end(portal: PortalRow, token: string): Promise<void> {
    await this.deps.db.updateTable('portal_previews').set({ session_expires_at: this.deps.clock.now() })
      .where('session_hash', '=', sha256Hex(token)).where('portal_id', '=', portal.id).execute();
  }

  /** The portal's previews, newest first. */
  async list(portalId: number, limit: number): Promise<PreviewRecord[]> {
    await this.portals.get(portalId);
    const rows = await this.deps.db.selectFrom('portal_previews as v')
      .innerJoin('members as m', 'm.id', 'v.member_id')
      .innerJoin('contacts as c', 'c.id', 'm.contact_id')
      .innerJoin('staff_users as u', 'u.id', 'v.staff_user_id')
      .select(['v.id', 'v.member_id', 'c.email', 'v.staff_user_id', 'u.name', 'v.created_at', 'v.opened_at'])
      .where('v.portal_id', '=', portalId)
      .orderBy('v.created_at', 'desc').orderBy('v.id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ id: r.id, memberId: r.member_id, contactEmail: r.email, staffUserId: r.staff_user_id, staffName: r.name, createdAt: r.created_at, openedAt: r.opened_at }));
  }
}
