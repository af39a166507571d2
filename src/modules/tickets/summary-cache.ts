import fastJson from 'fast-json-stringify';
import type { Conn } from '../../db/database.js';
import { presentTicketSummary } from './tickets.presenter.js';
import { findTicketSummaries, type TicketKey } from './tickets.repository.js';
import { TicketSummary } from './tickets.schemas.js';

/**
 * Ticket summaries as JSON, rendered once per revision of a ticket. A list query returns only
 * (id, revision) pairs, straight from an index; a summary whose cached revision matches is
 * reused as is, the others are read in one query and rendered. Every change to a ticket raises
 * its revision in the same transaction (tickets.repository.ts), so a cache hit is never stale,
 * and the database, not this process, decides: several processes may each keep their own.
 * The JSON comes from the TicketSummary schema, so it is the same allow-list as any response.
 */
export class TicketSummaryCache {
  private readonly entries = new Map<number, { revision: number; json: string }>();
  private readonly stringify = fastJson(TicketSummary);

  constructor(private readonly capacity = 50_000) {}

  /** The JSON of each ticket, in the keys' order; a ticket deleted meanwhile is left out. */
  async render(db: Conn, keys: readonly TicketKey[]): Promise<string[]> {
    const out: (string | undefined)[] = new Array<string | undefined>(keys.length);
    const missing: number[] = [];
    keys.forEach((key, i) => {
      const hit = this.entries.get(key.id);
      if (hit?.revision === key.revision) out[i] = hit.json;
      else missing.push(i);
    });
    if (missing.length > 0) {
      const rows = await findTicketSummaries(db, missing.map((i) => keys[i]?.id ?? 0));
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const i of missing) {
        const row = byId.get(keys[i]?.id ?? 0);
        if (row === undefined) continue;
        const json = this.stringify(presentTicketSummary(row));
        this.remember(row.id, row.revision, json);
        out[i] = json;
      }
    }
    return out.filter((json): json is string => json !== undefined);
  }

  private remember(id: number, revision: number, json: string): void {
    this.entries.delete(id);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(id, { revision, json });
  }
}
