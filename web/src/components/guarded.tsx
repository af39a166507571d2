import type { ComponentType } from 'react';
import { can, useMe, type Permission } from '../session';
import { NotAllowed } from './notice';

/**
 * A screen for staff holding `permission`: others are told so and nothing is asked of the API
 * (which would refuse anyway: the API decides, the screen only follows).
 */
export function guarded(permission: Permission, what: string, Screen: ComponentType): ComponentType {
  function Guarded() {
    const me = useMe();
    return can(me, permission) ? <Screen /> : <NotAllowed what={what} />;
  }
  Guarded.displayName = `Guarded(${Screen.displayName ?? Screen.name})`;
  return Guarded;
}
