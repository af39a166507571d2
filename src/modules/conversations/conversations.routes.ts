import { Type } from 'typebox';
import type { Deps } from '../../deps.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import { errors } from '../../errors.js';
import { staffOf } from '../../http/auth.js';
import { IdParams, Page, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import { presentAttachment, presentInbox, presentMessage, presentThread } from './conversations.presenter.js';
import * as repo from './conversations.repository.js';
import {
  Attachment, ChannelCreate, ChannelParams, ChannelUpdate, Inbox, InboxCreate, InboxUpdate, Message, MessageCreate, MessageParams, MessagesQuery, Thread, ThreadCreate, ThreadListItem, ThreadListQuery, ThreadUpdate,
} from './conversations.schemas.js';
import type { ConversationsService, InboxesService } from './conversations.service.js';
import type { HeldMessagesService } from './held-messages.service.js';
import { sendAttachment } from './download.js';

export interface ConversationsRoutesOptions {
  deps: Deps;
  inboxes: InboxesService;
  conversations: ConversationsService;
  contacts: ContactsService;
  heldMessages: HeldMessagesService;
}

const THREAD_SORT = pickSort('-lastMessageAt', '-lastMessageAt', { lastMessageAt: 'last_message_at' }, 'id');
const MESSAGE_SORT = pickSort('createdAt', 'createdAt', { createdAt: 'id' }, 'id');
const noContent = { 204: Type.Null(), ...problemResponses };

export function conversationsRoutes(app: App, { deps, inboxes, conversations, contacts: people, heldMessages }: ConversationsRoutesOptions): void {
  const itags = ['inboxes'];

  app.get('/api/v1/inboxes', {
    config: { access: 'staff' },
    schema: { tags: itags, summary: 'List inboxes with their channels (all of them)', response: { 200: Type.Object({ items: Type.Array(Inbox), nextCursor: Type.Null() }), ...problemResponses } },
  }, async () => ({ items: (await inboxes.list()).map(presentInbox), nextCursor: null }));

  app.get('/api/v1/inboxes/:id', {
    config: { access: 'staff' },
    schema: { tags: itags, summary: 'Get an inbox', params: IdParams, response: { 200: Inbox, ...problemResponses } },
  }, async (request) => presentInbox(await inboxes.get(request.params.id)));

  app.post('/api/v1/inboxes', {
    config: { access: 'manage_settings' },
    schema: { tags: itags, summary: 'Create an inbox', body: InboxCreate, response: { 201: Inbox, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentInbox(await inboxes.create(request.body.name))));

  app.patch('/api/v1/inboxes/:id', {
    config: { access: 'manage_settings' },
    schema: { tags: itags, summary: 'Rename an inbox, or choose whether incoming mail opens tickets and in which pipeline', params: IdParams, body: InboxUpdate, response: { 200: Inbox, ...problemResponses } },
  }, async (request) => presentInbox(await inboxes.update(request.params.id, request.body)));

  app.delete('/api/v1/inboxes/:id', {
    config: { access: 'manage_settings' },
    schema: { tags: itags, summary: 'Delete an inbox without conversations', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await inboxes.delete(request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/inboxes/:id/channels', {
    config: { access: 'manage_settings' },
    schema: { tags: itags, summary: 'Connect a channel (email address, form, chat, portal)', params: IdParams, body: ChannelCreate, response: { 201: Inbox, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentInbox(await inboxes.addChannel(request.params.id, request.body))));

  app.patch('/api/v1/inboxes/:id/channels/:channelId', {
    config: { access: 'manage_settings' },
    schema: { tags: itags, summary: 'Change a channel', params: ChannelParams, body: ChannelUpdate, response: { 200: Inbox, ...problemResponses } },
  }, async (request) => presentInbox(await inboxes.updateChannel(request.params.id, request.params.channelId, request.body)));

  app.delete('/api/v1/inboxes/:id/channels/:channelId', {
    config: { access: 'manage_settings' },
    schema: { tags: itags, summary: 'Disconnect a channel', params: ChannelParams, response: noContent },
  }, async (request, reply) => {
    await inboxes.deleteChannel(request.params.id, request.params.channelId);
    return reply.code(204).send(null);
  });

  const ttags = ['conversations'];

  app.get('/api/v1/threads', {
    config: { access: 'staff' },
    schema: { tags: ttags, summary: 'List conversation threads, newest message first, each with its contact’s name and email', querystring: ThreadListQuery, response: { 200: Page(ThreadListItem), ...problemResponses } },
  }, async (request) => {
    const q = request.query;
    const limit = q.limit ?? 25;
    const filter: repo.ThreadFilter = {};
    if (q.inboxId !== undefined) filter.inboxId = q.inboxId;
    if (q.status !== undefined) filter.status = q.status;
    if (q.assigneeId !== undefined) filter.assigneeId = q.assigneeId;
    if (q.unassigned === true) {
      if (q.assigneeId === undefined) filter.assigneeId = null;
      else filter.orUnassigned = true;
    }
    if (q.ticketId !== undefined) filter.ticketId = q.ticketId;
    if (q.contactId !== undefined) filter.contactId = q.contactId;
    if (q.q !== undefined) filter.q = q.q;
    const rows = await repo.listThreads(deps.db, filter, THREAD_SORT, decodeCursor(THREAD_SORT, q.cursor), limit);
    const page = toPage(rows, limit, THREAD_SORT, (r) => ({ value: r.last_message_at, id: r.id }));
    const contacts = await people.summaries(page.rows.flatMap((r) => (r.contact_id === null ? [] : [r.contact_id])));
    const held = await repo.threadsWithHeldMessages(deps.db, page.rows.map((r) => r.id));
    return {
      items: page.rows.map((r) => ({ ...presentThread(r), contact: r.contact_id === null ? null : (contacts.get(r.contact_id) ?? null), held: held.has(r.id) })),
      nextCursor: page.nextCursor,
    };
  });

  app.get('/api/v1/threads/:id', {
    config: { access: 'staff' },
    schema: { tags: ttags, summary: 'Get a thread', params: IdParams, response: { 200: Thread, ...problemResponses } },
  }, async (request) => presentThread(await conversations.getThread(request.params.id)));

  app.post('/api/v1/threads', {
    config: { access: 'staff' },
    schema: { tags: ttags, summary: 'Start a conversation thread, optionally with its first message', body: ThreadCreate, response: { 201: Thread, ...problemResponses } },
  }, async (request, reply) => {
    const thread = await conversations.createThread(request.body, { type: 'staff', staffUserId: staffOf(request).actor.id });
    return reply.code(201).send(presentThread(thread));
  });

  app.patch('/api/v1/threads/:id', {
    config: { access: 'staff' },
    schema: { tags: ttags, summary: 'Assign, close, reopen or move a thread, or tie it to a ticket', params: IdParams, body: ThreadUpdate, response: { 200: Thread, ...problemResponses } },
  }, async (request) => presentThread(await conversations.updateThread(request.params.id, request.body)));

  app.delete('/api/v1/threads/:id', {
    config: { access: 'staff' },
    schema: { tags: ttags, summary: 'Delete a thread and its messages', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await conversations.deleteThread(request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/api/v1/threads/:id/messages', {
    config: { access: 'staff' },
    schema: { tags: ttags, summary: 'Messages and internal comments of a thread, oldest first', params: IdParams, querystring: MessagesQuery, response: { 200: Page(Message), ...problemResponses } },
  }, async (request) => {
    await conversations.getThread(request.params.id);
    const limit = request.query.limit ?? 25;
    const rows = await repo.listMessages(deps.db, request.params.id, MESSAGE_SORT, decodeCursor(MESSAGE_SORT, request.query.cursor), limit);
    const page = toPage(rows, limit, MESSAGE_SORT, (r) => ({ value: r.id, id: r.id }));
    const files = await repo.attachmentsOf(deps.db, page.rows.map((r) => r.id));
    return { items: page.rows.map((r) => presentMessage(r, files.get(r.id) ?? [])), nextCursor: page.nextCursor };
  });

  app.post('/api/v1/threads/:id/messages', {
    config: { access: 'staff' },
    schema: { tags: ttags, summary: 'Reply, or add an internal comment (kind: comment)', params: IdParams, body: MessageCreate, response: { 201: Message, ...problemResponses } },
  }, async (request, reply) => {
    const message = await conversations.addMessage({ ...request.body, threadId: request.params.id, kind: request.body.kind ?? 'message', author: { type: 'staff', staffUserId: staffOf(request).actor.id } });
    const files = await repo.attachmentsOf(deps.db, [message.id]);
    return reply.code(201).send(presentMessage(message, files.get(message.id) ?? []));
  });

  app.post('/api/v1/threads/:id/messages/:messageId/accept', {
    config: { access: 'staff' },
    schema: {
      tags: ttags,
      summary: 'Accept a message whose sender could not be verified: it shows on the customer portal from now on, and the conversation can be answered',
      params: MessageParams,
      response: { 200: Message, ...problemResponses },
    },
  }, async (request) => {
    const message = await heldMessages.accept(request.params.id, request.params.messageId, staffOf(request).actor.id);
    const files = await repo.attachmentsOf(deps.db, [message.id]);
    return presentMessage(message, files.get(message.id) ?? []);
  });

  const atags = ['attachments'];

  app.post('/api/v1/attachments', {
    config: { access: 'staff' },
    schema: {
      tags: atags,
      summary: 'Upload a file (multipart/form-data, field "file"); attach it by id when posting a message',
      consumes: ['multipart/form-data'],
      response: { 201: Attachment, ...problemResponses },
    },
  }, async (request, reply) => {
    if (!request.isMultipart()) throw errors.unsupportedMediaType('multipart/form-data');
    const file = await request.file();
    if (file?.fieldname !== 'file') throw errors.validation([{ path: '/body/file', message: 'Send one file, as the multipart field named file.' }]);
    const row = await conversations.upload(file.file, file.filename, file.mimetype, staffOf(request).actor.id);
    return reply.code(201).send(presentAttachment(row));
  });

  app.get('/api/v1/attachments/:id', {
    config: { access: 'staff' },
    schema: { tags: atags, summary: 'Attachment details', params: IdParams, response: { 200: Attachment, ...problemResponses } },
  }, async (request) => presentAttachment(await conversations.getAttachmentForStaff(request.params.id, staffOf(request).actor.id)));

  app.get('/api/v1/attachments/:id/content', {
    config: { access: 'staff' },
    schema: { tags: atags, summary: 'Download an attachment (always as a download, never rendered)', params: IdParams },
  }, async (request, reply) => {
    const row = await conversations.getAttachmentForStaff(request.params.id, staffOf(request).actor.id);
    return sendAttachment(reply, row, await conversations.openAttachment(row));
  });
}
