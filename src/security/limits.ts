import { isIPv4, isIPv6 } from 'node:net';
import type { Clock } from '../clock.js';
import { errors } from '../errors.js';

/** At most `points` uses in `durationS` seconds per key. */
export interface LimitRule {
  /** Names the rule's counters; two rules never share one. */
  name: string;
  points: number;
  durationS: number;
}

/**
 * Every request limit, keyed by what it protects (README, "Security"): an account or a target
 * address first, tightly, and a client address (with the portal) after, generously, so one
 * attacker is stopped while a company signing in from behind one NAT is not.
 */
export const LIMITS = {
  /** Password sign-in attempts at one account (a portal and an email, or a staff email), from anywhere. */
  signInAccount: { name: 'sign-in-account', points: 10, durationS: 60 },
  /**
   * Sign-in attempts from one client address to one portal (or to the staff app). On a portal a
   * soft ceiling: past it, a visitor waits a few seconds and tries again (a wait ticket).
   */
  signInClient: { name: 'sign-in-client', points: 300, durationS: 300 },
  /** Wait tickets one client address may be given on one portal past a soft ceiling. */
  waitTickets: { name: 'wait-tickets', points: 120, durationS: 600 },
  /** Each wait ticket is used once. */
  waitTicketUse: { name: 'wait-ticket-use', points: 1, durationS: 600 },
  /** Registrations asked for one address on one portal. */
  registerTarget: { name: 'register-target', points: 3, durationS: 3600 },
  /** Registrations from one client address to one portal: each sends a mail to an address the visitor chose. */
  registerClient: { name: 'register-client', points: 5, durationS: 600 },
  /** Password resets and sign-in links asked for one address on one portal. */
  linkTarget: { name: 'link-target', points: 5, durationS: 3600 },
  /** Password resets and sign-in links asked from one client address to one portal. */
  linkClient: { name: 'link-client', points: 60, durationS: 600 },
  /** Pages reached from an emailed link (with its token), from one client address to one portal. */
  tokenPageClient: { name: 'token-page-client', points: 60, durationS: 600 },
  /** A signed-in member's password and email changes. */
  accountChange: { name: 'account-change', points: 10, durationS: 600 },
  /** Single sign-on starts and answers from one client address to one portal. */
  ssoClient: { name: 'sso-client', points: 600, durationS: 300 },
  /** Article suggestions while a customer types, from one client address to one portal. */
  suggestClient: { name: 'suggest-client', points: 120, durationS: 60 },
  /** A staff user's own password change. */
  staffPasswordChange: { name: 'staff-password-change', points: 10, durationS: 60 },
} as const satisfies Record<string, LimitRule>;

/**
 * The part of a client address that one party controls: an IPv4 address, or the /64 network of
 * an IPv6 one (a single host is routinely given a whole /64). IPv4 in IPv6 counts as IPv4.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Where counters live: this process's memory here; a shared store (Redis) past one process. */
export interface CounterStore {
  /** Adds one to the counter under `key` (made if missing, forgotten after `expiresAt`); returns the new count. */
  increment(key: string, expiresAt: number): Promise<number>;
  /** The counter under `key`, 0 if missing or expired. */
  read(key: string): Promise<number>;
}

/** Counters in a Map, each dropped once it expires (expired ones are swept as the map grows). */
export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { count: number; expiresAt: number }>();
  private sweepAt = 10_000;

  constructor(private readonly clock: Clock) {}

  increment(key: string, expiresAt: number): Promise<number> {
    const now = this.clock.now();
    const current = this.counters.get(key);
    if (current === undefined || current.expiresAt <= now) {
      if (this.counters.size >= this.sweepAt) this.sweep(now);
      this.counters.set(key, { count: 1, expiresAt });
      return Promise.resolve(1);
    }
    current.count += 1;
    return Promise.resolve(current.count);
  }

  read(key: string): Promise<number> {
    const current = this.counters.get(key);
    return Promise.resolve(current === undefined || current.expiresAt <= this.clock.now() ? 0 : current.count);
  }

  private sweep(now: number): void {
    for (const [key, value] of this.counters) if (value.expiresAt <= now) this.counters.delete(key);
    // Still full of live counters: the next sweep waits until the map has doubled.
    this.sweepAt = Math.max(10_000, this.counters.size * 2);
  }
}

/**
 * Counts uses against the rules above and refuses the one past a rule's limit with a 429 that
 * says when to try again. A sliding window, estimated from two fixed ones (the current window's
 * count plus the previous window's, weighted by how much of it still overlaps): no burst of twice
 * the limit at a window's edge, and two counters per key whatever the traffic. Time comes from
 * the injected clock, so tests move it; counters live in the store (this process's memory, or a
 * store shared by several processes).
 */
export class Limits {
  constructor(
    private readonly clock: Clock,
    private readonly store: CounterStore = new MemoryCounterStore(clock),
  ) {}

  /** Counts one use of `rule` for the key made of `parts`; past the limit, throws a 429. */
  async take(rule: LimitRule, ...parts: (string | number)[]): Promise<void> {
    const now = this.clock.now();
    const windowMs = rule.durationS * 1000;
    const window = Math.floor(now / windowMs);
    const base = `${rule.name}|${parts.join('|')}`;
    const overlap = 1 - (now - window * windowMs) / windowMs;
    // Counted first, refused or not: a client that keeps trying stays refused until it stops.
    const current = await this.store.increment(`${base}|${window}`, (window + 2) * windowMs);
    const previous = await this.store.read(`${base}|${window - 1}`);
    const used = Math.floor(previous * overlap) + current;
    if (used <= rule.points) return;
    const windowLeft = (window + 1) * windowMs - now;
    // The previous window's share falls as it slides out; this window's own count stays until it ends.
    const wait = current > rule.points || previous === 0 ? windowLeft : Math.min(windowLeft, Math.ceil(((used - rule.points) / previous) * windowMs));
    throw errors.rateLimited(Math.max(1, Math.ceil(wait / 1000)));
  }
}
