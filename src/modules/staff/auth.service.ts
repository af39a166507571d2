import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { decoyHash, hashPassword, randomToken, sha256Hex, verifyPassword } from '../../security/secrets.js';
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from '../../security/password-policy.js';
import { emailKey } from '../../util/email.js';
import type { OutboxService } from '../mail/outbox.service.js';
import { parsePermissions, type Actor } from './staff.policy.js';
import * as repo from './staff.repository.js';

/** After this many wrong passwords in a row the account is locked for LOCK_MS. */
const MAX_FAILURES = 10;
const LOCK_MS = 15 * 60 * 1000;
/** last_seen_at is written at most this often, so reads do not all become writes. */
const TOUCH_EVERY_MS = 60 * 1000;
/** How long an emailed password reset link works. */
export const STAFF_RESET_TTL_MS = 60 * 60 * 1000;
/** What randomToken(32) makes; anything else is not ours and is not even hashed. */
const RESET_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
export const API_TOKEN_PREFIX = 'ptk_';

export interface StaffPrincipal {
  actor: Actor;
  user: repo.StaffRow;
  via: 'session' | 'token';
  /** Present when authenticated by session cookie. */
  session?: { idHash: string; csrfToken: string };
}

export interface SignInResult {
  token: string;
  csrfToken: string;
  user: repo.StaffRow;
  expiresAt: number;
}

export function actorOf(user: repo.StaffRow): Actor {
  return { id: user.id, role: user.role, permissions: parsePermissions(user.permissions) };
}

export class StaffAuthService {
  constructor(private readonly deps: Deps, private readonly outbox: OutboxService) {}

  private get idleMs(): number {
    return this.deps.config.staffSession.idleMinutes * 60 * 1000;
  }

  /**
   * Checks the password and opens a new session (a fresh id every time, so a session id known
   * before sign-in is worthless after it). Unknown email, wrong password, disabled and locked
   * accounts all answer the same, after the same work.
   */
  async signIn(email: string, password: string, meta: { ip: string; userAgent: string | undefined }): Promise<SignInResult> {
    const { db, clock } = this.deps;
    const user = await repo.findStaffByEmailKey(db, emailKey(email));
    const ok = await verifyPassword(user?.password_hash ?? (await decoyHash()), password);
    const now = clock.now();
    if (user === undefined || user.password_hash === null) throw errors.invalidCredentials();
    const locked = user.locked_until !== null && user.locked_until > now;
    if (!ok || locked || user.disabled_at !== null) {
      if (!ok && !locked) await this.recordFailure(user, now);
      throw errors.invalidCredentials();
    }
    if (user.failed_sign_ins > 0 || user.locked_until !== null) {
      await repo.updateStaff(db, user.id, { failed_sign_ins: 0, locked_until: null });
    }
    const token = randomToken(32);
    const csrfToken = randomToken(24);
    const expiresAt = now + this.deps.config.staffSession.absoluteHours * 3600 * 1000;
    await repo.insertSession(db, {
      id_hash: sha256Hex(token),
      staff_user_id: user.id,
      csrf_token: csrfToken,
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
      ip: meta.ip,
      user_agent: meta.userAgent?.slice(0, 512) ?? null,
    });
    return { token, csrfToken, user, expiresAt };
  }

  /**
   * A staff user changes their own password (ASVS 2.1.5, 3.3.3): the current one is checked as
   * at sign-in (failures count towards the lockout), the new one against the password policy;
   * then every session of theirs ends, in the same transaction (the caller signs in afresh).
   */
  async changePassword(userId: number, current: string, next: string): Promise<repo.StaffRow> {
    const { db, clock } = this.deps;
    const user = await repo.findStaffById(db, userId);
    if (user === undefined || user.disabled_at !== null) throw errors.unauthenticated();
    const ok = await verifyPassword(user.password_hash ?? (await decoyHash()), current);
    const now = clock.now();
    const locked = user.locked_until !== null && user.locked_until > now;
    if (!ok || locked || user.password_hash === null) {
      if (!ok && !locked) await this.recordFailure(user, now);
      throw errors.unprocessable('WRONG_PASSWORD', 'The current password is wrong.', [{ path: '/body/currentPassword', message: 'This is not your current password.' }]);
    }
    const problem = passwordProblem(next);
    if (problem !== undefined) {
      const message = problem === 'common' ? 'This password is found in breaches: choose another.' : problem === 'too_short' ? `Enter at least ${PASSWORD_MIN} characters.` : `Enter at most ${PASSWORD_MAX} characters.`;
      throw errors.unprocessable('WEAK_PASSWORD', 'The new password cannot be used.', [{ path: '/body/newPassword', message }]);
    }
    const hash = await hashPassword(next);
    await db.transaction().execute(async (tx) => {
      await repo.updateStaff(tx, userId, { password_hash: hash, failed_sign_ins: 0, locked_until: null, updated_at: now });
      await repo.deleteSessionsOf(tx, userId);
    });
    return user;
  }

  /**
   * "Forgot your password?": mails an enabled staff user a link that sets a new password, good
   * for an hour and once; an earlier unused link stops working. Unknown and disabled addresses
   * get no mail and the same answer, so the form does not tell who has an account.
   */
  async requestPasswordReset(email: string): Promise<void> {
    const { db, clock, config } = this.deps;
    const user = await repo.findStaffByEmailKey(db, emailKey(email));
    if (user === undefined || user.disabled_at !== null) return;
    const now = clock.now();
    const token = randomToken(32);
    const link = new URL(`/app/reset-password#token=${token}`, config.publicAppUrl).toString();
    await db.transaction().execute(async (tx) => {
      await tx.updateTable('staff_password_resets').set({ used_at: now }).where('staff_user_id', '=', user.id).where('used_at', 'is', null).execute();
      await tx.insertInto('staff_password_resets').values({ token_hash: sha256Hex(token), staff_user_id: user.id, created_at: now, expires_at: now + STAFF_RESET_TTL_MS }).execute();
      await this.outbox.enqueue(tx, {
        kind: 'staff.reset',
        to: { address: user.email, name: user.name },
        subject: 'Set a new password for Portico',
        text: [
          `Hello ${user.name},`,
          '',
          'Someone (we hope you) asked to set a new password for your Portico staff account. Open this link within an hour to choose one:',
          '',
          link,
          '',
          'If you did not ask for this, ignore this mail: your password stays as it is.',
        ].join('\n'),
      });
    });
  }

  /**
   * Sets a new password from an emailed link. A weak password is refused without using the link
   * up; a good one uses it, clears the lockout and ends every session of the user (the browser
   * then signs in with the new password).
   */
  async resetPassword(token: string, next: string): Promise<repo.StaffRow> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const invalid = () => errors.unprocessable('RESET_LINK_INVALID', 'This link to set a new password has expired or was already used. Ask for a new one.');
    if (!RESET_TOKEN_SHAPE.test(token)) throw invalid();
    const hash = sha256Hex(token);
    const row = await db.selectFrom('staff_password_resets').selectAll().where('token_hash', '=', hash).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    const user = row === undefined ? undefined : await repo.findStaffById(db, row.staff_user_id);
    if (row === undefined || user === undefined || user.disabled_at !== null) throw invalid();
    const problem = passwordProblem(next);
    if (problem !== undefined) {
      const message = problem === 'common' ? 'This password is found in breaches: choose another.' : problem === 'too_short' ? 'This password is too short.' : 'This password is too long.';
      throw errors.unprocessable('WEAK_PASSWORD', 'The new password cannot be used.', [{ path: '/body/password', message }]);
    }
    const passwordHash = await hashPassword(next);
    await db.transaction().execute(async (tx) => {
      const used = await tx.updateTable('staff_password_resets').set({ used_at: now })
        .where('token_hash', '=', hash).where('used_at', 'is', null).where('expires_at', '>', now).returning('token_hash').executeTakeFirst();
      if (used === undefined) throw invalid();
      await tx.updateTable('staff_password_resets').set({ used_at: now }).where('staff_user_id', '=', user.id).where('used_at', 'is', null).execute();
      await repo.updateStaff(tx, user.id, { password_hash: passwordHash, failed_sign_ins: 0, locked_until: null, updated_at: now });
      await repo.deleteSessionsOf(tx, user.id);
    });
    return user;
  }

  private async recordFailure(user: repo.StaffRow, now: number): Promise<void> {
    const failures = user.failed_sign_ins + 1;
    await repo.updateStaff(this.deps.db, user.id, failures >= MAX_FAILURES ? { failed_sign_ins: 0, locked_until: now + LOCK_MS } : { failed_sign_ins: failures });
  }

  /** The principal behind a session cookie, or null when it is unknown, idle too long or too old. */
  async resolveSession(token: string): Promise<StaffPrincipal | null> {
    const { db, clock } = this.deps;
    const idHash = sha256Hex(token);
    const found = await repo.findSessionWithUser(db, idHash);
    if (found === undefined) return null;
    const { session, user } = found;
    const now = clock.now();
    if (now >= session.expires_at || now - session.last_seen_at >= this.idleMs) {
      await repo.deleteSession(db, idHash);
      return null;
    }
    if (user.disabled_at !== null) return null;
    if (now - session.last_seen_at >= TOUCH_EVERY_MS) await repo.touchSession(db, idHash, now);
    return { actor: actorOf(user), user, via: 'session', session: { idHash, csrfToken: session.csrf_token } };
  }

  async signOut(idHash: string): Promise<void> {
    await repo.deleteSession(this.deps.db, idHash);
  }

  async resolveApiToken(raw: string): Promise<StaffPrincipal | null> {
    if (!raw.startsWith(API_TOKEN_PREFIX) || raw.length > 200) return null;
    const { db, clock } = this.deps;
    const found = await repo.findTokenWithUser(db, sha256Hex(raw));
    const now = clock.now();
    if (found === undefined) return null;
    const { token, user } = found;
    if (token.revoked_at !== null || (token.expires_at !== null && token.expires_at <= now) || user.disabled_at !== null) return null;
    if (token.last_used_at === null || now - token.last_used_at >= TOUCH_EVERY_MS) await repo.markTokenUsed(db, token.id, now);
    return { actor: actorOf(user), user, via: 'token' };
  }

  /** Creates an API token. The secret is returned once and only its hash is kept. */
  async createApiToken(staffUserId: number, name: string, expiresAt: number | null): Promise<{ secret: string; row: repo.TokenRow }> {
    const secret = API_TOKEN_PREFIX + randomToken(32);
    const row = await repo.insertToken(this.deps.db, {
      staff_user_id: staffUserId,
      name,
      token_hash: sha256Hex(secret),
      token_prefix: secret.slice(0, API_TOKEN_PREFIX.length + 6),
      created_at: this.deps.clock.now(),
      expires_at: expiresAt,
    });
    return { secret, row };
  }

  async purgeExpiredSessions(): Promise<number> {
    const now = this.deps.clock.now();
    await this.deps.db.deleteFrom('staff_password_resets').where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)])).execute();
    return repo.deleteExpiredSessions(this.deps.db, now, now - this.idleMs);
  }
}
