import type { Static } from 'typebox';
import { iso } from '../../http/common-schemas.js';
import type { AttachmentRow, ChannelRow, InboxRow, MessageRow, ThreadRow } from './conversations.repository.js';
import { readVerdict } from '../mail/sender-verdict.js';
import type { Attachment, Channel, Inbox, Message, SenderCheck, Thread } from './conversations.schemas.js';

export function presentChannel(row: ChannelRow): Static<typeof Channel> {
  const imap = row.imap_settings === null ? null : { ...(JSON.parse(row.imap_settings) as { host: string; port: number; secure: boolean; user: string; mailbox: string }), passwordSet: row.imap_secret !== null };
  return { id: row.id, inboxId: row.inbox_id, type: row.type, name: row.name, address: row.address, imap, createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}

export function presentInbox({ inbox, channels }: { inbox: InboxRow; channels: ChannelRow[] }): Static<typeof Inbox> {
  return {
    id: inbox.id, name: inbox.name, channels: channels.map(presentChannel), createsTickets: inbox.creates_tickets === 1, pipelineId: inbox.pipeline_id,
    createdAt: iso(inbox.created_at), updatedAt: iso(inbox.updated_at),
  };
}

export function presentThread(row: ThreadRow): Static<typeof Thread> {
  return {
    id: row.id, inboxId: row.inbox_id, channelId: row.channel_id, ticketId: row.ticket_id, contactId: row.contact_id,
    subject: row.subject, status: row.status, assigneeId: row.assignee_id,
    createdAt: iso(row.created_at), updatedAt: iso(row.updated_at), lastMessageAt: iso(row.last_message_at),
  };
}

export function presentAttachment(row: AttachmentRow): Static<typeof Attachment> {
  return { id: row.id, messageId: row.message_id, filename: row.filename, contentType: row.content_type, size: row.size, sha256: row.sha256, createdAt: iso(row.created_at) };
}

/** A sender check as recorded (mail's and message's `authentication` column), for the API. */
export function presentSenderCheck(text: string | null): Static<typeof SenderCheck> | null {
  const v = readVerdict(text);
  if (v === undefined) return null;
  return { address: v.address, verified: v.verified, fromDomain: v.fromDomain, spf: v.spf, dkim: v.dkim, dkimDomain: v.dkimDomain, dmarc: v.dmarc, dmarcPolicy: v.dmarcPolicy };
}

export function presentMessage(row: MessageRow, attachments: AttachmentRow[]): Static<typeof Message> {
  return {
    id: row.id, threadId: row.thread_id, kind: row.kind, authorType: row.author_type, contactId: row.contact_id, staffUserId: row.staff_user_id,
    bodyText: row.body_text, bodyHtml: row.body_html, attachments: attachments.map(presentAttachment),
    sender: presentSenderCheck(row.authentication), held: row.held === 1, acceptedAt: iso(row.accepted_at), acceptedBy: row.accepted_by_staff_id,
    createdAt: iso(row.created_at),
  };
}
