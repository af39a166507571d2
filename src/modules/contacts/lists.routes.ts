import { Type } from 'typebox';
import type { Deps } from '../../deps.js';
import { IdParams, Page, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import { staffOf } from '../../http/auth.js';
import { presentList } from './contacts.presenter.js';
import * as repo from './contacts.repository.js';
import { ContactList, ContactListCreate, ContactListUpdate, ListMemberParams, ListMembersAdd, ListsQuery } from './contacts.schemas.js';
import type { ListsService } from './lists.service.js';

const SORT = pickSort('-createdAt', '-createdAt', { createdAt: 'id' }, 'id');

export function listsRoutes(app: App, { deps, lists }: { deps: Deps; lists: ListsService }): void {
  const tags = ['lists'];

  async function presentOne(row: repo.ListRow) {
    const counts = await repo.memberCounts(deps.db, [row.id]);
    return presentList(row, counts.get(row.id) ?? 0);
  }

  app.get('/api/v1/lists', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List contact lists', querystring: ListsQuery, response: { 200: Page(ContactList), ...problemResponses } },
  }, async (request) => {
    const limit = request.query.limit ?? 25;
    const rows = await repo.listLists(deps.db, decodeCursor(SORT, request.query.cursor), SORT, limit);
    const page = toPage(rows, limit, SORT, (r) => ({ value: r.id, id: r.id }));
    const counts = await repo.memberCounts(deps.db, page.rows.map((r) => r.id));
    return { items: page.rows.map((r) => presentList(r, counts.get(r.id) ?? 0)), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/lists/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Get a contact list', params: IdParams, response: { 200: ContactList, ...problemResponses } },
  }, async (request) => presentOne(await lists.get(request.params.id)));

  app.post('/api/v1/lists', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Create a static list, or an active list kept current by its filters', body: ContactListCreate, response: { 201: ContactList, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(await presentOne(await lists.create(request.body))));

  app.patch('/api/v1/lists/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Rename a list or change an active list’s filters', params: IdParams, body: ContactListUpdate, response: { 200: ContactList, ...problemResponses } },
  }, async (request) => {
    if (request.body.filters !== undefined) await lists.assertMayChangeMembers(request.params.id, staffOf(request).actor);
    return presentOne(await lists.update(request.params.id, request.body));
  });

  app.delete('/api/v1/lists/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Delete a list', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await lists.delete(request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/lists/:id/members', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Add contacts to a static list', params: IdParams, body: ListMembersAdd, response: { 200: ContactList, ...problemResponses } },
  }, async (request) => {
    await lists.assertMayChangeMembers(request.params.id, staffOf(request).actor);
    await lists.addMembers(request.params.id, request.body.contactIds);
    return presentOne(await lists.get(request.params.id));
  });

  app.delete('/api/v1/lists/:id/members/:contactId', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Remove a contact from a static list', params: ListMemberParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await lists.assertMayChangeMembers(request.params.id, staffOf(request).actor);
    await lists.removeMember(request.params.id, request.params.contactId);
    return reply.code(204).send(null);
  });
}
