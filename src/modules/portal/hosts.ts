import type { Deps } from '../../deps.js';
import type { PortalRow } from './portals.service.js';

const TTL_MS = 5_000;

/**
 * Which portal, if any, a request's Host names. Looked up on every request, so kept in memory
 * for a few seconds; this process forgets an entry as soon as it changes a portal, other
 * processes within TTL_MS.
 */
export class PortalHosts {
  private readonly cache = new Map<string, { portal: PortalRow | undefined; until: number }>();

  constructor(private readonly deps: Deps) {}

  /** The host name of a Host header: lower-cased, without a port. */
  static hostname(header: string | undefined): string | undefined {
    if (header === undefined || header === '' || header.length > 260) return undefined;
    const host = header.toLowerCase().replace(/:\d+$/, '');
    return /^[a-z0-9.-]+$/.test(host) ? host : undefined;
  }

  async resolve(header: string | undefined): Promise<PortalRow | undefined> {
    const host = PortalHosts.hostname(header);
    if (host === undefined) return undefined;
    const now = this.deps.clock.now();
    const hit = this.cache.get(host);
    if (hit !== undefined && hit.until > now) return hit.portal;
    const portal = await this.deps.db.selectFrom('portals').selectAll().where('domain', '=', host).executeTakeFirst();
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(host, { portal, until: now + TTL_MS });
    return portal;
  }

  invalidate(): void {
    this.cache.clear();
  }
}
