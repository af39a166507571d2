import { Type, type Static } from 'typebox';
import { IdParams, Nullable, Page, PageQuery, Timestamp, iso, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import type { OutboxRow, OutboxService } from './outbox.service.js';

const Status = Type.Enum(['queued', 'sending', 'sent', 'failed'], {
  description: 'queued: waiting (without SMTP_URL mail stays here); sending: a worker holds it; sent: the SMTP server took it; failed: refused for good, or given up after three days',
});

const OutboxSummary = Type.Object({
  id: Type.Integer(),
  messageId: Type.String(),
  kind: Type.String(),
  portalId: Nullable(Type.Integer()),
  to: Type.String(),
  subject: Type.String(),
  status: Status,
  attempts: Type.Integer(),
  nextAttemptAt: Timestamp,
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  sentAt: Nullable(Timestamp),
});

const OutboxMessage = Type.Object({
  ...OutboxSummary.properties,
  toName: Nullable(Type.String()),
  from: Type.String(),
  fromName: Nullable(Type.String()),
  text: Type.String(),
  html: Nullable(Type.String()),
});

const OutboxQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Status),
  to: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
}, { additionalProperties: false });

function summary(row: OutboxRow): Static<typeof OutboxSummary> {
  return {
    id: row.id,
    messageId: row.message_id,
    kind: row.kind,
    portalId: row.portal_id,
    to: row.to_address,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: iso(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    sentAt: iso(row.sent_at),
  };
}

function message(row: OutboxRow): Static<typeof OutboxMessage> {
  return { ...summary(row), toName: row.to_name, from: row.from_address, fromName: row.from_name, text: row.text_body, html: row.html_body };
}

const NEWEST = pickSort('-id', '-id', { id: 'id' }, 'id');

/**
 * The outbox through the API (C6): what Portico sent, is sending, or could not send; without
 * SMTP_URL, the development mailbox. Mail holds one-time links, so only staff who manage
 * settings read it.
 */
export function outboxRoutes(app: App, { outbox }: { outbox: OutboxService }): void {
  const tags = ['mail'];

  app.get('/api/v1/outbox', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Outgoing mail, newest first; filter by status or recipient', querystring: OutboxQuery, response: { 200: Page(OutboxSummary), ...problemResponses } },
  }, async (request) => {
    const limit = request.query.limit ?? 25;
    const cursor = decodeCursor(NEWEST, request.query.cursor);
    const rows = await outbox.list({
      limit,
      ...(request.query.status === undefined ? {} : { status: request.query.status }),
      ...(request.query.to === undefined ? {} : { to: request.query.to.trim() }),
      ...(cursor === undefined ? {} : { beforeId: cursor.id }),
    });
    const page = toPage(rows, limit, NEWEST, (r) => ({ value: r.id, id: r.id }));
    return { items: page.rows.map(summary), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/outbox/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'One outgoing mail with its text and HTML', params: IdParams, response: { 200: OutboxMessage, ...problemResponses } },
  }, async (request) => message(await outbox.get(request.params.id)));

  app.post('/api/v1/outbox/:id/retry', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Send a failed mail again (409 unless it failed)', params: IdParams, response: { 200: OutboxMessage, ...problemResponses } },
  }, async (request) => message(await outbox.retry(request.params.id)));
}
