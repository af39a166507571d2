import { Type, type Static } from 'typebox';
import { IdParams, Nullable, Page, PageQuery, Timestamp, iso, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import { presentSenderCheck } from '../conversations/conversations.presenter.js';
import { SenderCheck } from '../conversations/conversations.schemas.js';
import type { InboundMailService, InboundRow } from './inbound.service.js';

const Status = Type.Enum(['received', 'processed', 'ignored', 'failed'], {
  description: 'received: kept, not yet in a thread; processed: in a thread; ignored: automatic mail (auto-replies, bounces); failed: cannot be read, waiting for staff to reprocess',
});

const InboundMail = Type.Object({
  id: Type.Integer(),
  messageId: Nullable(Type.String()),
  source: Type.Enum(['smtp', 'imap']),
  channelId: Nullable(Type.Integer()),
  envelopeFrom: Nullable(Type.String()),
  clientIp: Nullable(Type.String({ description: 'The address of the server that delivered it to our SMTP listener; null for mail fetched from a mailbox' })),
  helo: Nullable(Type.String({ description: 'The name that server gave for itself' })),
  recipients: Type.Array(Type.String()),
  from: Nullable(Type.String({ description: 'The From header as received' })),
  subject: Nullable(Type.String()),
  size: Type.Integer(),
  status: Status,
  reason: Nullable(Type.String()),
  attempts: Type.Integer(),
  threadId: Nullable(Type.Integer()),
  sameMessageIdAs: Nullable(Type.Integer({ description: 'An earlier mail that came with the same Message-ID but says something else: this one was kept as a mail of its own, not dropped as a copy' })),
  authentication: Nullable(Type.Object(SenderCheck.properties, { description: 'What the checks found about its sender, once made (when it is threaded)' })),
  receivedAt: Timestamp,
  processedAt: Nullable(Timestamp),
});

const Query = Type.Object({ ...PageQuery, status: Type.Optional(Status) }, { additionalProperties: false });

function present(row: InboundRow): Static<typeof InboundMail> {
  return {
    id: row.id, messageId: row.message_id, source: row.source, channelId: row.channel_id, envelopeFrom: row.envelope_from, clientIp: row.client_ip, helo: row.helo,
    recipients: JSON.parse(row.recipients) as string[], from: row.from_address, subject: row.subject, size: row.raw_size,
    status: row.status, reason: row.reason, attempts: row.attempts, threadId: row.thread_id, sameMessageIdAs: row.duplicate_of, authentication: presentSenderCheck(row.authentication), receivedAt: iso(row.received_at), processedAt: iso(row.processed_at),
  };
}

const NEWEST = pickSort('-id', '-id', { id: 'id' }, 'id');

/**
 * Incoming mail through the API (C6): what arrived and what became of it; the failed-mail store
 * (`status=failed`), each mail's raw source, and reprocessing. Only staff who manage settings.
 */
export function inboundRoutes(app: App, { inbound }: { inbound: InboundMailService }): void {
  const tags = ['mail'];

  app.get('/api/v1/inbound-mail', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Incoming mail, newest first; status=failed is the failed-mail store', querystring: Query, response: { 200: Page(InboundMail), ...problemResponses } },
  }, async (request) => {
    const limit = request.query.limit ?? 25;
    const cursor = decodeCursor(NEWEST, request.query.cursor);
    const rows = await inbound.list({ limit, ...(request.query.status === undefined ? {} : { status: request.query.status }), ...(cursor === undefined ? {} : { beforeId: cursor.id }) });
    const page = toPage(rows, limit, NEWEST, (r) => ({ value: r.id, id: r.id }));
    return { items: page.rows.map(present), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/inbound-mail/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'One incoming mail: where it went, or why it did not', params: IdParams, response: { 200: InboundMail, ...problemResponses } },
  }, async (request) => present(await inbound.get(request.params.id)));

  app.get('/api/v1/inbound-mail/:id/raw', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'The mail as received (message/rfc822, always a download)', params: IdParams, produces: ['message/rfc822'] },
  }, async (request, reply) => {
    const row = await inbound.get(request.params.id);
    return reply.type('message/rfc822').header('content-disposition', `attachment; filename="mail-${row.id}.eml"`).header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox").send(await inbound.raw(row));
  });

  app.post('/api/v1/inbound-mail/:id/reprocess', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Process a failed or ignored mail again (409 when it is already in a thread)', params: IdParams, response: { 200: InboundMail, ...problemResponses } },
  }, async (request) => present(await inbound.reprocess(request.params.id)));
}
