import type { Conn } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { RowUpdate } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { hashPassword } from '../../security/secrets.js';
import { emailKey } from '../../util/email.js';
import type { Permission, Role } from './staff.policy.js';
import * as repo from './staff.repository.js';

export interface NewStaffUser {
  email: string;
  name: string;
  role: Role;
  permissions?: Permission[];
  password?: string;
}

export interface StaffUserPatch {
  name?: string;
  email?: string;
  role?: Role;
  permissions?: Permission[];
  disabled?: boolean;
  password?: string;
}

const emailTaken = () => errors.conflict('EMAIL_TAKEN', 'A staff user with this email already exists.');

export class StaffService {
  constructor(private readonly deps: Deps) {}

  async create(input: NewStaffUser, db: Conn = this.deps.db): Promise<repo.StaffRow> {
    const now = this.deps.clock.now();
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    try {
      return await repo.insertStaff(db, {
        email: input.email.trim(),
        email_key: emailKey(input.email),
        name: input.name,
        role: input.role,
        permissions: JSON.stringify([...new Set(input.permissions ?? [])]),
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
  }

  async get(id: number): Promise<repo.StaffRow> {
    const row = await repo.findStaffById(this.deps.db, id);
    if (row === undefined) throw errors.notFound('staff user');
    return row;
  }

  findByEmail(email: string): Promise<repo.StaffRow | undefined> {
    return repo.findStaffByEmailKey(this.deps.db, emailKey(email));
  }

  async update(id: number, patch: StaffUserPatch): Promise<repo.StaffRow> {
    const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await repo.findStaffById(tx, id);
      if (current === undefined) throw errors.notFound('staff user');
      const losesAdmin =
        current.role === 'admin' && current.disabled_at === null &&
        ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true);
      if (losesAdmin && (await repo.countActiveAdmins(tx)) <= 1) {
        throw errors.conflict('LAST_ADMIN', 'This is the last active admin; make another admin first.');
      }
      const now = this.deps.clock.now();
      const set: RowUpdate<'staff_users'> = { updated_at: now };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.email !== undefined) {
        set.email = patch.email.trim();
        set.email_key = emailKey(patch.email);
      }
      if (patch.role !== undefined) set.role = patch.role;
      if (patch.permissions !== undefined) set.permissions = JSON.stringify([...new Set(patch.permissions)]);
      if (patch.disabled !== undefined) set.disabled_at = patch.disabled ? (current.disabled_at ?? now) : null;
      if (passwordHash !== undefined) {
        set.password_hash = passwordHash;
        set.failed_sign_ins = 0;
        set.locked_until = null;
      }
      let row: repo.StaffRow | undefined;
      try {
        row = await repo.updateStaff(tx, id, set);
      } catch (error) {
        if (isUniqueViolation(error)) throw emailTaken();
        throw error;
      }
      if (row === undefined) throw errors.notFound('staff user');
      // A disabled user, or one whose password changed, is signed out everywhere; a disabled
      // user's API tokens are revoked, so enabling the user again never revives them.
      if (patch.disabled === true || passwordHash !== undefined) await repo.deleteSessionsOf(tx, id);
      if (patch.disabled === true) await repo.revokeTokensOf(tx, id, now);
      return row;
    });
  }

  async delete(id: number, actorId: number): Promise<void> {
    if (id === actorId) throw errors.conflict('CANNOT_DELETE_SELF', 'You cannot delete your own account.');
    await this.deps.db.transaction().execute(async (tx) => {
      const current = await repo.findStaffById(tx, id);
      if (current === undefined) throw errors.notFound('staff user');
      if (current.role === 'admin' && current.disabled_at === null && (await repo.countActiveAdmins(tx)) <= 1) {
        throw errors.conflict('LAST_ADMIN', 'This is the last active admin; make another admin first.');
      }
      await repo.deleteStaff(tx, id);
    });
  }
}
