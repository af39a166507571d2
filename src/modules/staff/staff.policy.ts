import { readJsonArray } from '../../util/json.js';
/**
 * Who may do what among staff: the one place. Admins hold every permission; agents hold the ones
 * granted to them.
 */
export const PERMISSIONS = ['portal_settings', 'manage_settings', 'manage_staff'] as const;
export type Permission = (typeof PERMISSIONS)[number];
export type Role = 'admin' | 'agent';

export interface Actor {
  id: number;
  role: Role;
  permissions: readonly Permission[];
}

/**
 * What a route demands of its caller. Every route declares one; there is no default.
 * 'portal' and 'member' routes answer only on an enabled portal's host (a member: signed in);
 * every other route answers only off portal hosts, but for those marked `anyHost`.
 */
export type Access = 'public' | 'staff' | Permission | 'portal' | 'member';

export function hasPermission(actor: Actor, permission: Permission): boolean {
  return actor.role === 'admin' || actor.permissions.includes(permission);
}

export function allows(actor: Actor | null, access: Access): boolean {
  if (access === 'public') return true;
  if (actor === null || access === 'portal' || access === 'member') return false;
  if (access === 'staff') return true;
  return hasPermission(actor, access);
}

export function parsePermissions(raw: string): Permission[] {
  return readJsonArray<unknown>(raw).filter((p): p is Permission => (PERMISSIONS as readonly unknown[]).includes(p));
}
