import type { FastifyRequest } from 'fastify';
import { clientKey, type LimitRule, type Limits } from '../security/limits.js';
import { emailKey } from '../util/email.js';
import type { App } from './types.js';

/** One limit a route declares: the rule, and the key it counts this request under (undefined: not counted). */
export interface RouteLimit {
  rule: LimitRule;
  key(request: FastifyRequest): (string | number)[] | undefined;
}

/** The portal a request came to, or the staff app: limits never mix the two, and never depend on how the Host was spelt. */
function siteOf(request: FastifyRequest): string | number {
  return request.portal?.id ?? 'app';
}

/** Counted per client address (an IPv6 /64) and site. */
export function perClient(rule: LimitRule): RouteLimit {
  return { rule, key: (request) => [siteOf(request), clientKey(request.ip)] };
}

/** Counted per target address (an email field of the body, as emails are compared) and site, whoever asks. */
export function perTarget(rule: LimitRule, field = 'email'): RouteLimit {
  return {
    rule,
    key: (request) => {
      const value = (request.body as Record<string, unknown> | undefined)?.[field];
      return typeof value === 'string' ? [siteOf(request), emailKey(value)] : undefined;
    },
  };
}

/** Counted per signed-in member, or per staff user. */
export function perUser(rule: LimitRule): RouteLimit {
  return {
    rule,
    key: (request) => {
      if (request.member !== null) return [siteOf(request), `member:${request.member.viewer.memberId}`];
      if (request.staff !== null) return ['app', `staff:${request.staff.user.id}`];
      return undefined;
    },
  };
}

/**
 * Takes the route's declared limits (`config.limits`) once its body is read and checked, before
 * its handler: a request past any of them gets a 429 with Retry-After and does no work.
 */
export function registerLimits(app: App, limits: Limits): void {
  app.addHook('preHandler', async (request) => {
    const declared = request.routeOptions.config.limits;
    if (declared === undefined) return;
    for (const limit of declared) {
      const key = limit.key(request);
      if (key !== undefined) await limits.take(limit.rule, ...key);
    }
  });
}
