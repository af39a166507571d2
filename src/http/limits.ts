import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { AppError, errors } from '../errors.js';
import { clearPortalCookie, readPortalCookie, setPortalCookie } from '../modules/portal/cookies.js';
import { clientKey, LIMITS, type LimitRule, type Limits } from '../security/limits.js';
import { randomToken, safeEqual } from '../security/secrets.js';
import { emailKey } from '../util/email.js';
import type { App } from './types.js';

/** One limit a route declares: the rule, and the key it counts this request under (undefined: not counted). */
export interface RouteLimit {
  rule: LimitRule;
  key(request: FastifyRequest): (string | number)[] | undefined;
  /** Past it on a portal, the visitor may wait a few seconds and try again (a wait ticket) instead of being refused. */
  soft?: boolean;
}

/** How long a wait ticket makes its holder wait, and how long it is good for after that. */
export const WAIT_SECONDS = 5;
const TICKET_LIFE_MS = 2 * 60_000;

/** The portal a request came to, or the staff app: limits never mix the two, and never depend on how the Host was spelt. */
function siteOf(request: FastifyRequest): string | number {
  return request.portal?.id ?? 'app';
}

/** Counted per client address (an IPv6 /64) and site; `soft`: past it, a wait ticket instead of a refusal. */
export function perClient(rule: LimitRule, options: { soft?: boolean } = {}): RouteLimit {
  return { rule, key: (request) => [siteOf(request), clientKey(request.ip)], ...(options.soft === true ? { soft: true } : {}) };
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
 * A proof of patience, for a crowd behind one address that reaches a limit meant for one
 * attacker: the refusal sets a signed ticket (a cookie) good from WAIT_SECONDS on, and the next
 * try that carries it, ripe and unused, is let through that limit (not the account's). A browser
 * does this by itself when its holder tries again; a script must wait too, and tickets are
 * themselves limited per client address (LIMITS.waitTickets), so an attacker gains little.
 */
class WaitTickets {
  constructor(
    private readonly limits: Limits,
    private readonly secret: string,
    private readonly clock: Clock,
  ) {}

  private sign(key: (string | number)[], notBefore: number, nonce: string): string {
    return createHmac('sha256', this.secret).update(`wait|${key.join('|')}|${notBefore}|${nonce}`).digest('base64url');
  }

  /** Whether the request carries a ripe, unused ticket for this key (it is then used up). */
  async redeem(request: FastifyRequest, reply: FastifyReply, key: (string | number)[]): Promise<boolean> {
    const presented = readPortalCookie(request, 'wait');
    const match = /^(\d{1,16})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/.exec(presented ?? '');
    if (match === null) return false;
    const [, at = '', nonce = '', mac = ''] = match;
    const notBefore = Number(at);
    const now = this.clock.now();
    if (!safeEqual(mac, this.sign(key, notBefore, nonce)) || now < notBefore || now > notBefore + TICKET_LIFE_MS) return false;
    try {
      await this.limits.take(LIMITS.waitTicketUse, nonce);
    } catch {
      return false;
    }
    clearPortalCookie(reply, request, 'wait');
    return true;
  }

  /** Gives the request a new ticket (within the limit on tickets) and answers: wait, then try again. */
  async issue(request: FastifyRequest, reply: FastifyReply, key: (string | number)[]): Promise<never> {
    await this.limits.take(LIMITS.waitTickets, ...key);
    const notBefore = this.clock.now() + WAIT_SECONDS * 1000;
    const nonce = randomToken(16);
    setPortalCookie(reply, request, 'wait', `${notBefore}.${nonce}.${this.sign(key, notBefore, nonce)}`, { maxAge: Math.ceil((WAIT_SECONDS * 1000 + TICKET_LIFE_MS) / 1000) });
    throw errors.waitAndRetry(WAIT_SECONDS);
  }
}

/**
 * Takes the route's declared limits (`config.limits`) once its body is read and checked, before
 * its handler: a request past any of them gets a 429 with Retry-After and does no work; past a
 * soft one on a portal, a wait ticket (above).
 */
export function registerLimits(app: App, limits: Limits, options: { secret: string; clock: Clock }): void {
  const tickets = new WaitTickets(limits, options.secret, options.clock);
  app.addHook('preHandler', async (request, reply) => {
    const declared = request.routeOptions.config.limits;
    if (declared === undefined) return;
    for (const limit of declared) {
      const key = limit.key(request);
      if (key === undefined) continue;
      try {
        await limits.take(limit.rule, ...key);
      } catch (error) {
        if (limit.soft !== true || request.portal === null || !(error instanceof AppError) || error.status !== 429) throw error;
        if (!(await tickets.redeem(request, reply, key))) await tickets.issue(request, reply, key);
      }
    }
  });
}
