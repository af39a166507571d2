import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { ApiError, api, call, setCsrfToken, whenUnauthenticated, type Session, type StaffUser } from './api/client';

export const sessionKey = ['session'] as const;

/** Who is signed in; null when nobody is (the API answered 401). */
export function useSession() {
  const queryClient = useQueryClient();
  useEffect(() => {
    whenUnauthenticated(() => {
      setCsrfToken(null);
      queryClient.setQueryData(sessionKey, null);
    });
  }, [queryClient]);
  return useQuery({
    queryKey: sessionKey,
    queryFn: async (): Promise<Session | null> => {
      try {
        const session = await call(api.GET('/api/v1/auth/session'));
        setCsrfToken(session.csrfToken);
        return session;
      } catch (error) {
        if (error instanceof ApiError && error.problem.status === 401) return null;
        throw error;
      }
    },
    staleTime: Infinity,
  });
}

/** The signed-in user; only for screens under the signed-in layout. */
export function useMe(): StaffUser {
  const { data } = useSession();
  if (data === null || data === undefined) throw new Error('useMe outside a signed-in screen');
  return data.user;
}

export type Permission = StaffUser['permissions'][number];

/** Mirrors the API's rule (staff.policy.ts): admins hold every permission. The API decides anyway. */
export function can(user: StaffUser, permission: Permission): boolean {
  return user.role === 'admin' || user.permissions.includes(permission);
}
