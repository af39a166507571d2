import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DNSResolver } from 'mailauth';

/**
 * How the mail checks ask DNS: `resolve(name, type)` answering as node:dns does (TXT records as
 * lists of strings, MX as objects) and failing with its error codes (ENOTFOUND, ENODATA for no
 * answer; anything else is a temporary error).
 */
export type DnsResolver = DNSResolver;

/** The system's DNS servers; node's resolver tries each question twice, two seconds each. */
export function systemResolver(): DnsResolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  return (name, type) => resolver.resolve(name, type) as Promise<string[][] | string[]>;
}

/** Resolves after `ms`; the signal cancels it. Tests pass their own and fire it themselves. */
export type Timer = (ms: number, signal: AbortSignal) => Promise<void>;

const wallTimer: Timer = (ms, signal) => sleep(ms, undefined, { signal, ref: false });

export interface DnsBounds {
  /** The longest wait for one answer. */
  timeoutMs: number;
  /** The longest wait for all the answers about one mail together. */
  budgetMs: number;
  timer?: Timer;
}

/** A question not answered in time, as node:dns reports one: its checks record a temporary error. */
function timedOut(name: string, type: string): Error {
  return Object.assign(new Error(`query${type} ETIMEOUT ${name}`), { code: 'ETIMEOUT', hostname: name });
}

/** A resolver for the checks of one mail: every question bounded, and all of them together. `close()` when done. */
export interface BoundedResolver {
  resolve: DnsResolver;
  close(): void;
}

/**
 * Bounds the DNS questions about one mail, so a slow or silent name server (the sender's own,
 * perhaps on purpose) cannot stall processing: one question waits at most `timeoutMs`, all of
 * them `budgetMs`; past either, a question fails as a timeout (and once the budget is spent,
 * every later one fails at once).
 */
export function boundedResolver(inner: DnsResolver, bounds: DnsBounds): BoundedResolver {
  const timer = bounds.timer ?? wallTimer;
  const all = new AbortController();
  let budget: Promise<never> | undefined;
  let spent = false;
  const resolve: DnsResolver = async (name, type) => {
    budget ??= timer(bounds.budgetMs, all.signal).then(() => {
      spent = true;
      throw timedOut(name, type);
    });
    if (spent || all.signal.aborted) throw timedOut(name, type);
    const one = new AbortController();
    try {
      const expired = timer(bounds.timeoutMs, one.signal).then(() => {
        throw timedOut(name, type);
      });
      return await Promise.race([inner(name, type), expired, budget]);
    } finally {
      one.abort();
    }
  };
  return {
    resolve,
    close: () => {
      all.abort();
    },
  };
}
