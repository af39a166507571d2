import { Type } from 'typebox';
import type { Deps } from '../../deps.js';
import { IdParams, Page, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, pickSort, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import { emailKey } from '../../util/email.js';
import { Engagement, TimelineQuery, TimelineService } from '../timeline/timeline.service.js';
import { presentCompany, presentContact } from './contacts.presenter.js';
import * as repo from './contacts.repository.js';
import {
  Company, CompanyCreate, CompanyLink, CompanyListQuery, CompanyUpdate, Contact, ContactCompanyParams, ContactCreate, ContactListQuery, ContactUpdate,
} from './contacts.schemas.js';
import type { CompaniesService, ContactsService } from './contacts.service.js';
import type { ListsService } from './lists.service.js';

export interface ContactsRoutesOptions {
  deps: Deps;
  contacts: ContactsService;
  companies: CompaniesService;
  lists: ListsService;
  timeline: TimelineService;
}

const CONTACT_SORTS = { createdAt: 'contacts.id', updatedAt: 'contacts.updated_at', email: 'contacts.email_key' };
const COMPANY_SORTS = { createdAt: 'id', updatedAt: 'updated_at', name: 'name' };
const noContent = { 204: Type.Null(), ...problemResponses };

export function contactsRoutes(app: App, o: ContactsRoutesOptions): void {
  const { deps } = o;
  const tags = ['contacts'];

  async function presentOne(row: repo.ContactRow) {
    const companies = await repo.companyIdsOf(deps.db, [row.id]);
    return presentContact(row, companies.get(row.id) ?? []);
  }

  app.get('/api/v1/contacts', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List contacts', querystring: ContactListQuery, response: { 200: Page(Contact), ...problemResponses } },
  }, async (request) => {
    const q = request.query;
    const limit = q.limit ?? 25;
    const sort = pickSort(q.sort, '-createdAt', CONTACT_SORTS, 'contacts.id', ['email']);
    const filter: repo.ContactFilter = {};
    if (q.email !== undefined) filter.emailPrefix = emailKey(q.email);
    if (q.companyId !== undefined) filter.companyId = q.companyId;
    if (q.listId !== undefined) filter.listId = q.listId;
    const rows = await repo.listContacts(deps.db, filter, sort, decodeCursor(sort, q.cursor), limit);
    const page = toPage(rows, limit, sort, (r) => ({
      value: sort.column === 'contacts.email_key' ? r.email_key : sort.column === 'contacts.updated_at' ? r.updated_at : r.id,
      id: r.id,
    }));
    const companies = await repo.companyIdsOf(deps.db, page.rows.map((r) => r.id));
    return { items: page.rows.map((r) => presentContact(r, companies.get(r.id) ?? [])), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/contacts/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Get a contact', params: IdParams, response: { 200: Contact, ...problemResponses } },
  }, async (request) => presentOne(await o.contacts.get(request.params.id)));

  app.post('/api/v1/contacts', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Create a contact', body: ContactCreate, response: { 201: Contact, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(await presentOne(await o.contacts.create(request.body))));

  app.patch('/api/v1/contacts/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Change a contact', params: IdParams, body: ContactUpdate, response: { 200: Contact, ...problemResponses } },
  }, async (request) => presentOne(await o.contacts.update(request.params.id, request.body)));

  app.delete('/api/v1/contacts/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Delete a contact', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await o.contacts.delete(request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/contacts/:id/companies', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Associate a company with a contact', params: IdParams, body: CompanyLink, response: { 200: Contact, ...problemResponses } },
  }, async (request) => {
    await o.contacts.linkCompany(request.params.id, request.body.companyId);
    return presentOne(await o.contacts.get(request.params.id));
  });

  app.delete('/api/v1/contacts/:id/companies/:companyId', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Remove a company association (and the primary, if it was this one)', params: ContactCompanyParams, response: { 200: Contact, ...problemResponses } },
  }, async (request) => {
    await o.contacts.unlinkCompany(request.params.id, request.params.companyId);
    return presentOne(await o.contacts.get(request.params.id));
  });

  app.get('/api/v1/contacts/:id/timeline', {
    config: { access: 'staff' },
    schema: { tags, summary: "A contact's timeline, newest first", params: IdParams, querystring: TimelineQuery, response: { 200: Page(Engagement), ...problemResponses } },
  }, async (request) => {
    await o.contacts.get(request.params.id);
    return o.timeline.page('contact', request.params.id, decodeCursor(TimelineService.sort, request.query.cursor), request.query.limit ?? 25);
  });

  // Companies

  const ctags = ['companies'];
  app.get('/api/v1/companies', {
    config: { access: 'staff' },
    schema: { tags: ctags, summary: 'List companies', querystring: CompanyListQuery, response: { 200: Page(Company), ...problemResponses } },
  }, async (request) => {
    const q = request.query;
    const limit = q.limit ?? 25;
    const sort = pickSort(q.sort, 'name', COMPANY_SORTS, 'id', ['name']);
    const filter: { namePrefix?: string; domain?: string } = {};
    if (q.name !== undefined) filter.namePrefix = q.name;
    if (q.domain !== undefined) filter.domain = q.domain;
    const rows = await repo.listCompanies(deps.db, filter, sort, decodeCursor(sort, q.cursor), limit);
    const page = toPage(rows, limit, sort, (r) => ({ value: sort.column === 'name' ? r.name : sort.column === 'updated_at' ? r.updated_at : r.id, id: r.id }));
    return { items: page.rows.map(presentCompany), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/companies/:id', {
    config: { access: 'staff' },
    schema: { tags: ctags, summary: 'Get a company', params: IdParams, response: { 200: Company, ...problemResponses } },
  }, async (request) => presentCompany(await o.companies.get(request.params.id)));

  app.post('/api/v1/companies', {
    config: { access: 'staff' },
    schema: { tags: ctags, summary: 'Create a company', body: CompanyCreate, response: { 201: Company, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentCompany(await o.companies.create(request.body))));

  app.patch('/api/v1/companies/:id', {
    config: { access: 'staff' },
    schema: { tags: ctags, summary: 'Change a company', params: IdParams, body: CompanyUpdate, response: { 200: Company, ...problemResponses } },
  }, async (request) => presentCompany(await o.companies.update(request.params.id, request.body)));

  app.delete('/api/v1/companies/:id', {
    config: { access: 'staff' },
    schema: { tags: ctags, summary: 'Delete a company', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await o.companies.delete(request.params.id, o.lists);
    return reply.code(204).send(null);
  });

  app.get('/api/v1/companies/:id/timeline', {
    config: { access: 'staff' },
    schema: { tags: ctags, summary: "A company's timeline, newest first", params: IdParams, querystring: TimelineQuery, response: { 200: Page(Engagement), ...problemResponses } },
  }, async (request) => {
    await o.companies.get(request.params.id);
    return o.timeline.page('company', request.params.id, decodeCursor(TimelineService.sort, request.query.cursor), request.query.limit ?? 25);
  });
}
