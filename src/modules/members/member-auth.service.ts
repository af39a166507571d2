import { sql, type SqlBool } from 'kysely';
import type { Conn } from '../../db/database.js';
import type { Deps } from '../../deps.js';
import { AppError, errors } from '../../errors.js';
import { decoyHash, randomToken, sha256Hex, verifyPassword } from '../../security/secrets.js';
import { emailKey } from '../../util/email.js';
import type { Viewer } from '../access/access.service.js';
import type { PortalRow } from '../portal/portals.service.js';
import type { ConditionT } from '../filters/filters.js';
import { readJsonArray } from '../../util/json.js';
import { PreparedQuery } from '../../db/prepared.js';
import { mayUsePortal, mayUsePortalSql } from './access-lists.js';
import type { SignInLog, SignInReason } from './sign-in-log.js';

const MAX_FAILURES = 10;
const LOCK_MS = 15 * 60 * 1000;
const TOUCH_EVERY_MS = 60 * 1000;
/** However active, a member signs in again after this long. */
const ABSOLUTE_MS = 12 * 3600 * 1000;

/** A member who proved who they are but whom the portal's contact lists leave out (P10). */
export function accessDenied(): AppError {
  return new AppError(403, 'ACCESS_DENIED', 'This member may not use this portal.').forPage('access.denied.message');
}

/** A member who gave the right password but never confirmed the address (registration). */
/** A session with its member, contact and portal rules, by the hash of its token: on every signed-in request. */
const sessionWithMember = new PreparedQuery((db: Conn, a: { idHash: string }) =>
  db.selectFrom('member_sessions as s')
    .innerJoin('members as m', 'm.id', 's.member_id')
    .innerJoin('contacts as c', 'c.id', 'm.contact_id')
    .innerJoin('portals as p', 'p.id', 's.portal_id')
    .select(['s.csrf_token', 's.last_seen_at', 's.expires_at', 's.portal_id', 'm.id as member_id', 'm.disabled_at', 'c.id as contact_id', 'c.email', 'c.first_name', 'c.last_name',
      'c.primary_company_id', 'p.filters', 'm.language'])
    .where('s.id_hash', '=', a.idHash)
    // Off every access list of the portal: signed out at the next request (P10).
    .where(mayUsePortalSql(sql.ref<number>('s.portal_id'), sql.ref<number>('c.id'))));

/**
 * A portal's filter rules as stored, parsed: every signed-in request reads them with its session,
 * and portals are few, so each stored text is parsed once (the parsed rules are never changed).
 */
const parsedFilters = new Map<string, ConditionT[]>();
function parseFilters(text: string | null): ConditionT[] {
  if (text === null) return [];
  let filters = parsedFilters.get(text);
  if (filters === undefined) {
    filters = Object.freeze(readJsonArray<ConditionT>(text).map((f) => Object.freeze(f))) as ConditionT[];
    if (parsedFilters.size >= 1000) parsedFilters.clear();
    parsedFilters.set(text, filters);
  }
  return filters;
}

export class EmailNotVerified extends AppError {
  constructor(readonly memberId: number) {
    super(403, 'EMAIL_NOT_VERIFIED', 'Confirm the email address first.');
  }
}

export interface SessionMeta {
  ip: string;
  userAgent: string | undefined;
}

export interface MemberPrincipal {
  viewer: Viewer;
  email: string;
  name: string;
  /** The language the member chose on the portal, if any (X1). */
  language: string | null;
  session: { idHash: string; csrfToken: string };
  /** Staff looking at the portal as this member (P30): read-only, under a banner. */
  preview?: { staffUserId: number; previewId: number };
}

/**
 * Portal members signing in with a password (P8, P38, P39): server-side sessions whose cookie
 * holds only a random id, a new id at every sign-in, the portal's idle timeout and an absolute
 * lifetime. Unknown email, wrong password, locked and disabled members get the same answer
 * after the same work.
 */
export class MemberAuthService {
  constructor(
    private readonly deps: Deps,
    readonly log: SignInLog,
  ) {}

  async signIn(portal: PortalRow, email: string, password: string, meta: SessionMeta): Promise<{ token: string; expiresAt: number }> {
    const { db, clock } = this.deps;
    const member = await db.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id')
      .select(['m.id', 'm.password_hash', 'm.failed_sign_ins', 'm.locked_until', 'm.disabled_at', 'm.verified_at'])
      .where('m.portal_id', '=', portal.id).where('c.email_key', '=', emailKey(email))
      .executeTakeFirst();
    const ok = await verifyPassword(member?.password_hash ?? (await decoyHash()), password);
    const now = clock.now();
    const entry = { portalId: portal.id, method: 'password' as const, email, memberId: member?.id ?? null, ip: meta.ip, userAgent: meta.userAgent ?? null };
    // Every answer but success is the same to the visitor; the log says which it was.
    const refuse = async (reason: SignInReason, detail: string | null = null): Promise<never> => {
      await this.log.record({ ...entry, outcome: 'refused', reason, detail });
      throw errors.invalidCredentials();
    };
    if (member === undefined) return refuse('unknown_email');
    if (member.password_hash === null) return refuse('no_password');
    const locked = member.locked_until !== null && member.locked_until > now;
    if (locked) return refuse('locked');
    if (member.disabled_at !== null) return refuse('disabled');
    if (!ok) {
      const failures = member.failed_sign_ins + 1;
      await db.updateTable('members').set(failures >= MAX_FAILURES ? { failed_sign_ins: 0, locked_until: now + LOCK_MS } : { failed_sign_ins: failures })
        .where('id', '=', member.id).execute();
      return refuse('wrong_password', failures >= MAX_FAILURES ? `The ${MAX_FAILURES}th wrong password in a row: the account is now locked for 15 minutes.` : null);
    }
    // The right password, but the address was never confirmed: no session until it is.
    if (member.verified_at === null) {
      await this.log.record({ ...entry, outcome: 'denied', reason: 'email_not_verified' });
      throw new EmailNotVerified(member.id);
    }
    if (!(await mayUsePortal(db, portal.id, member.id))) {
      await this.log.record({ ...entry, outcome: 'denied', reason: 'not_on_access_lists' });
      throw accessDenied();
    }
    return db.transaction().execute(async (tx) => {
      const session = await this.startSession(tx, portal.id, member.id, meta);
      await this.log.record({ ...entry, outcome: 'signed_in', reason: 'signed_in' }, tx);
      return session;
    });
  }

  /**
   * A new session for a member who just proved who they are (password, emailed link): a fresh
   * random id, of which only the hash is stored; sign-in failures and lockout are cleared.
   */
  async startSession(db: Conn, portalId: number, memberId: number, meta: SessionMeta): Promise<{ token: string; expiresAt: number }> {
    const now = this.deps.clock.now();
    const token = randomToken(32);
    const expiresAt = now + ABSOLUTE_MS;
    await db.updateTable('members').set({ failed_sign_ins: 0, locked_until: null, last_sign_in_at: now }).where('id', '=', memberId).execute();
    await db.insertInto('member_sessions').values({
      id_hash: sha256Hex(token), member_id: memberId, portal_id: portalId, csrf_token: randomToken(24),
      created_at: now, last_seen_at: now, expires_at: expiresAt, ip: meta.ip, user_agent: meta.userAgent?.slice(0, 512) ?? null,
    }).execute();
    return { token, expiresAt };
  }

  /** The member behind a session cookie on this portal, or null when unknown, idle too long, too old, or disabled. */
  async resolve(portal: PortalRow, token: string): Promise<MemberPrincipal | null> {
    const { db, clock } = this.deps;
    const idHash = sha256Hex(token);
    const row = await sessionWithMember.executeTakeFirst(db, { idHash });
    if (row === undefined || row.portal_id !== portal.id) return null;
    const now = clock.now();
    if (now >= row.expires_at || now - row.last_seen_at >= portal.idle_timeout_minutes * 60_000 || row.disabled_at !== null) {
      await db.deleteFrom('member_sessions').where('id_hash', '=', idHash).execute();
      return null;
    }
    if (now - row.last_seen_at >= TOUCH_EVERY_MS) await db.updateTable('member_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
    const name = [row.first_name, row.last_name].filter((p) => p !== null && p !== '').join(' ');
    return {
      viewer: {
        portalId: portal.id, memberId: row.member_id, contactId: row.contact_id,
        known: { filters: parseFilters(row.filters), filtersText: row.filters, primaryCompanyId: row.primary_company_id },
      },
      email: row.email,
      name: name === '' ? row.email : name,
      language: row.language,
      session: { idHash, csrfToken: row.csrf_token },
    };
  }

  /**
   * A staff preview session (P28, P30): the member it shows, while the preview lasts, the member
   * is active and the portal's contact lists still let them in. Never touches member_sessions.
   */
  async resolvePreview(portal: PortalRow, token: string): Promise<MemberPrincipal | null> {
    const idHash = sha256Hex(token);
    const row = await this.deps.db.selectFrom('portal_previews as v')
      .innerJoin('members as m', 'm.id', 'v.member_id')
      .innerJoin('contacts as c', 'c.id', 'm.contact_id')
      .innerJoin('portals as p', 'p.id', 'v.portal_id')
      .select(['v.id', 'v.staff_user_id', 'v.session_expires_at', 'v.portal_id', 'm.id as member_id', 'm.disabled_at', 'm.language', 'c.id as contact_id', 'c.email', 'c.first_name', 'c.last_name', 'c.primary_company_id', 'p.filters'])
      .where('v.session_hash', '=', idHash)
      .where(mayUsePortalSql(sql.ref<number>('v.portal_id'), sql.ref<number>('c.id')))
      .executeTakeFirst();
    if (row === undefined || row.portal_id !== portal.id || row.disabled_at !== null) return null;
    if (row.session_expires_at === null || this.deps.clock.now() >= row.session_expires_at) return null;
    const name = [row.first_name, row.last_name].filter((p) => p !== null && p !== '').join(' ');
    return {
      viewer: { portalId: portal.id, memberId: row.member_id, contactId: row.contact_id, known: { filters: parseFilters(row.filters), filtersText: row.filters, primaryCompanyId: row.primary_company_id } },
      email: row.email,
      name: name === '' ? row.email : name,
      language: row.language,
      // Nothing is ever posted in a preview; an empty token matches no form.
      session: { idHash: `preview:${idHash}`, csrfToken: '' },
      preview: { staffUserId: row.staff_user_id, previewId: row.id },
    };
  }

  /** Deletes sessions past their absolute lifetime, or idle longer than their portal allows. */
  async purgeExpiredSessions(): Promise<number> {
    const now = this.deps.clock.now();
    const r = await this.deps.db.deleteFrom('member_sessions')
      .where((eb) => eb.or([
        eb('expires_at', '<=', now),
        eb.exists(eb.selectFrom('portals as p').select('p.id').whereRef('p.id', '=', 'member_sessions.portal_id')
          .where(sql<SqlBool>`member_sessions.last_seen_at <= cast(${now} as bigint) - p.idle_timeout_minutes * 60000`)),
      ]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Remembers the language a member chose on the portal's switch. */
  async saveLanguage(memberId: number, language: string): Promise<void> {
    await this.deps.db.updateTable('members').set({ language, updated_at: this.deps.clock.now() }).where('id', '=', memberId).execute();
  }

  async signOut(idHash: string): Promise<void> {
    await this.deps.db.deleteFrom('member_sessions').where('id_hash', '=', idHash).execute();
  }
}
