import type { Conn } from '../../db/database.js';
import type { Row, SignInMethod, SignInOutcome } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { sql, type SqlBool } from 'kysely';
import { afterCursor, type Cursor, type SortSpec } from '../../http/pagination.js';

/** Why a sign-in ended as it did: a stable code, worded for admins by REASON_TEXT. */
export const SIGN_IN_REASONS = [
  'signed_in', 'wrong_password', 'unknown_email', 'no_password', 'locked', 'disabled', 'email_not_verified',
  'not_on_access_lists', 'link_unusable',
  // Single sign-on: `sso_` and the code of its refusal or denial (sso/refusals.ts).
  'sso_proof_invalid', 'sso_replayed', 'sso_unsolicited', 'sso_other_browser', 'sso_flow_unknown', 'sso_address_not_allowed',
  'sso_provider_unavailable', 'sso_provider_changed',
  'sso_no_email', 'sso_email_not_verified', 'sso_no_contact', 'sso_member_disabled', 'sso_other_portal', 'sso_not_on_sso_lists',
  'sso_not_on_access_lists', 'sso_subject_conflict',
] as const satisfies readonly (string)[];
export type SignInReason = (typeof SIGN_IN_REASONS)[number];

/** What each reason means, in words for a support admin (the API gives it with every entry). */
export const REASON_TEXT: Record<SignInReason, string> = {
  signed_in: 'Signed in.',
  wrong_password: 'The password was wrong.',
  unknown_email: 'No one signs in with this email address on this portal.',
  no_password: 'This member has no password yet: they were invited and have not chosen one, or they sign in by single sign-on.',
  locked: 'Too many wrong passwords: the account is locked for 15 minutes.',
  disabled: 'The member is disabled.',
  email_not_verified: 'The email address is not confirmed yet; a new confirmation link was sent to it.',
  not_on_access_lists: 'The member is on none of the contact lists this portal is open to.',
  link_unusable: 'The emailed link had expired, was used already, or was not sent by this portal.',
  sso_proof_invalid: 'The identity provider’s answer failed a check (its signature, issuer, audience or time), so it proved nothing.',
  sso_replayed: 'The identity provider’s answer had been used before.',
  sso_unsolicited: 'The identity provider’s answer came without this portal asking for it, which this provider’s settings do not allow.',
  sso_other_browser: 'The sign-in was finished in another browser than the one that started it.',
  sso_flow_unknown: 'The sign-in had expired, or was finished already.',
  sso_address_not_allowed: 'The identity provider’s address is on a private or internal network, which Portico does not contact.',
  sso_provider_unavailable: 'The identity provider could not be reached, or its settings or keys could not be used.',
  sso_provider_changed: 'The identity provider’s settings changed while the sign-in was under way.',
  sso_no_email: 'The identity provider gave no usable email address, which a first sign-in needs.',
  sso_email_not_verified: 'The identity provider does not vouch for the email address, so it cannot be linked to a contact.',
  sso_no_contact: 'No contact has this email address, and this identity provider may not create contacts.',
  sso_member_disabled: 'The member is disabled.',
  sso_other_portal: 'This identity belongs to a member of another portal.',
  sso_not_on_sso_lists: 'The person is not on the portal’s single sign-on lists.',
  sso_not_on_access_lists: 'The person is on none of the contact lists this portal is open to.',
  sso_subject_conflict: 'The member already signs in with another account of this identity provider; a second one is refused.',
};

export const SIGN_IN_METHODS: readonly SignInMethod[] = ['password', 'magic_link', 'invitation', 'reset', 'verify', 'sso'];
export const SIGN_IN_OUTCOMES: readonly SignInOutcome[] = ['signed_in', 'refused', 'denied'];

export type SignInEventRow = Row<'sign_in_events'>;

/** The log's one order: newest first. */
export const SIGN_IN_LOG_SORT: SortSpec = { name: '-occurredAt', column: 'occurred_at', idColumn: 'id', direction: 'desc' };

export interface SignInEvent {
  portalId: number;
  method: SignInMethod;
  outcome: SignInOutcome;
  reason: SignInReason;
  /** The address typed or asserted; found from the member when not given. */
  email?: string | null;
  subject?: string | null;
  memberId?: number | null;
  provider?: { id: number; name: string } | null;
  /** More about the reason, for the admin (a provider's check that failed); never a secret. */
  detail?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export interface SignInLogFilter {
  outcome?: SignInOutcome;
  method?: SignInMethod;
  /** Entries whose address starts with this (as emails compare: lower case). */
  email?: string;
}

const clip = (value: string | null | undefined, max: number): string | null => (value === undefined || value === null ? null : value.slice(0, max));

/**
 * Each portal's sign-in log (C11): every sign-in and refusal, by password, emailed link or
 * single sign-on, with the reason the customer was never told. Requests refused by a rate
 * limit are not entered (an attack would otherwise write a row per request). Entries older
 * than SIGN_IN_LOG_DAYS are purged.
 */
export class SignInLog {
  constructor(private readonly deps: Deps) {}

  /** Enters one event, in `db` (the sign-in's own transaction when it has one). */
  async record(event: SignInEvent, db: Conn = this.deps.db): Promise<void> {
    let email = event.email ?? null;
    if (email === null && event.memberId !== undefined && event.memberId !== null) {
      email = (await db.selectFrom('members as m').innerJoin('contacts as c', 'c.id', 'm.contact_id').select('c.email').where('m.id', '=', event.memberId).executeTakeFirst())?.email ?? null;
    }
    await db.insertInto('sign_in_events').values({
      portal_id: event.portalId,
      occurred_at: this.deps.clock.now(),
      method: event.method,
      provider_id: event.provider?.id ?? null,
      provider_name: clip(event.provider?.name, 200),
      email: clip(email?.trim().toLowerCase(), 254),
      subject: clip(event.subject, 500),
      member_id: event.memberId ?? null,
      outcome: event.outcome,
      reason: event.reason,
      detail: clip(event.detail, 500),
      ip: clip(event.ip, 64),
      user_agent: clip(event.userAgent, 512),
    }).execute();
  }

  /** A portal's entries, newest first, one page after `cursor` (one more row than `limit`, for toPage). */
  async list(portalId: number, filter: SignInLogFilter, cursor: Cursor | undefined, limit: number): Promise<SignInEventRow[]> {
    let q = this.deps.db.selectFrom('sign_in_events').selectAll().where('portal_id', '=', portalId);
    if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
    if (filter.method !== undefined) q = q.where('method', '=', filter.method);
    if (filter.email !== undefined && filter.email.trim() !== '') {
      // Addresses are entered in lower case; a prefix, its LIKE wildcards escaped.
      const prefix = filter.email.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
      q = q.where(sql<SqlBool>`email like ${`${prefix}%`} escape '\\'`);
    }
    if (cursor !== undefined) q = q.where(afterCursor(SIGN_IN_LOG_SORT, cursor));
    return q.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  }

  /** Forgets entries older than `days`. */
  async purge(days: number): Promise<number> {
    const r = await this.deps.db.deleteFrom('sign_in_events').where('occurred_at', '<', this.deps.clock.now() - days * 24 * 3600_000).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
