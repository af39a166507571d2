import { Type, type Static } from 'typebox';
import type { Conn, Tx } from '../../db/database.js';
import type { Row, TargetType } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { Nullable, PageQuery, Timestamp, iso } from '../../http/common-schemas.js';
import { afterCursor, orderFor, pickSort, toPage, type Cursor } from '../../http/pagination.js';

export type EngagementType = 'email' | 'note' | 'ticket_created' | 'stage_changed';

export interface NewEngagement {
  type: EngagementType;
  occurredAt: number;
  title: string;
  body?: string | null;
  ticketId?: number | null;
  threadId?: number | null;
  messageId?: number | null;
  staffUserId?: number | null;
  targets: { type: TargetType; id: number }[];
}

export const Engagement = Type.Object({
  id: Type.Integer(),
  type: Type.String({ description: 'email (a message in a conversation), note (an internal comment), ticket_created, stage_changed' }),
  occurredAt: Timestamp,
  title: Type.String(),
  body: Nullable(Type.String()),
  ticketId: Nullable(Type.Integer()),
  threadId: Nullable(Type.Integer()),
  messageId: Nullable(Type.Integer()),
  staffUserId: Nullable(Type.Integer()),
});
export const TimelineQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

const SORT = pickSort('-occurredAt', '-occurredAt', { occurredAt: 'et.occurred_at' }, 'et.engagement_id');
const PREVIEW = 500;

function present(row: Row<'engagements'>): Static<typeof Engagement> {
  return {
    id: row.id,
    type: row.type,
    occurredAt: iso(row.occurred_at),
    title: row.title,
    body: row.body,
    ticketId: row.ticket_id,
    threadId: row.thread_id,
    messageId: row.message_id,
    staffUserId: row.staff_user_id,
  };
}

/**
 * The timeline of engagements per contact, company and ticket (C5, P27). An engagement is
 * written once and linked to every record whose timeline shows it.
 */
export class TimelineService {
  constructor(private readonly deps: Deps) {}

  async record(tx: Tx, e: NewEngagement): Promise<number> {
    const row = await tx.insertInto('engagements').values({
      type: e.type,
      occurred_at: e.occurredAt,
      title: e.title.slice(0, 300),
      body: e.body === undefined || e.body === null ? null : e.body.slice(0, PREVIEW),
      ticket_id: e.ticketId ?? null,
      thread_id: e.threadId ?? null,
      message_id: e.messageId ?? null,
      staff_user_id: e.staffUserId ?? null,
      created_at: this.deps.clock.now(),
    }).returning('id').executeTakeFirstOrThrow();
    const seen = new Set<string>();
    const targets = e.targets.filter((t) => {
      const key = `${t.type}:${t.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (targets.length > 0) {
      await tx.insertInto('engagement_targets')
        .values(targets.map((t) => ({ engagement_id: row.id, target_type: t.type, target_id: t.id, occurred_at: e.occurredAt })))
        .execute();
    }
    return row.id;
  }

  async forgetTarget(tx: Tx, type: TargetType, id: number): Promise<void> {
    await tx.deleteFrom('engagement_targets').where('target_type', '=', type).where('target_id', '=', id).execute();
  }

  async page(type: TargetType, id: number, rawCursor: Cursor | undefined, limit: number, db: Conn = this.deps.db) {
    let q = db.selectFrom('engagement_targets as et')
      .innerJoin('engagements as e', 'e.id', 'et.engagement_id')
      .selectAll('e')
      .select(['et.occurred_at as t_occurred_at', 'et.engagement_id as t_id'])
      .where('et.target_type', '=', type)
      .where('et.target_id', '=', id);
    if (rawCursor !== undefined) q = q.where(afterCursor(SORT, rawCursor));
    for (const o of orderFor(SORT)) q = q.orderBy(o);
    const rows = await q.limit(limit + 1).execute();
    const page = toPage(rows, limit, SORT, (r) => ({ value: r.t_occurred_at, id: r.t_id }));
    return { items: page.rows.map(present), nextCursor: page.nextCursor };
  }

  static readonly sort = SORT;
}
