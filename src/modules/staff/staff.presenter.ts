import { iso } from '../../http/common-schemas.js';
import type { Static } from 'typebox';
import { parsePermissions } from './staff.policy.js';
import type { StaffRow, TokenRow } from './staff.repository.js';
import type { ApiToken, StaffUserT } from './staff.schemas.js';

export function presentStaff(row: StaffRow): StaffUserT {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    permissions: parsePermissions(row.permissions),
    disabled: row.disabled_at !== null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function presentToken(row: TokenRow): Static<typeof ApiToken> {
  return {
    id: row.id,
    name: row.name,
    staffUserId: row.staff_user_id,
    prefix: row.token_prefix,
    createdAt: iso(row.created_at),
    lastUsedAt: iso(row.last_used_at),
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
  };
}
