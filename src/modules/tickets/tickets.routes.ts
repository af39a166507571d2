import { Type } from 'typebox';
import type { Deps } from '../../deps.js';
import { staffOf } from '../../http/auth.js';
import { IdParams, Page, problemResponses } from '../../http/common-schemas.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import { readJsonObject } from '../../util/json.js';
import { Engagement, TimelineQuery, TimelineService } from '../timeline/timeline.service.js';
import { presentTicket } from './tickets.presenter.js';
import * as repo from './tickets.repository.js';
import { CompanyLink, ContactLink, Ticket, TicketCompanyParams, TicketContactParams, TicketCreate, TicketListItem, TicketListQuery, TicketUpdate } from './tickets.schemas.js';
import type { TicketSummaryCache } from './summary-cache.js';
import type { TicketsService } from './tickets.service.js';
import { planTicketList } from './ticket-list.js';
import type { NewTicketService } from './new-ticket.service.js';
import type { AccessService } from '../access/access.service.js';

export interface TicketsRoutesOptions {
  deps: Deps;
  tickets: TicketsService;
  timeline: TimelineService;
  summaries: TicketSummaryCache;
  access: AccessService;
  newTickets: NewTicketService;
}

export function ticketsRoutes(app: App, { deps, tickets, newTickets, timeline, summaries, access }: TicketsRoutesOptions): void {
  const tags = ['tickets'];

  async function presentOne(row: repo.TicketRow) {
    const assoc = await repo.associationsOf(deps.db, [row.id]);
    return presentTicket(row, assoc.contacts.get(row.id) ?? [], assoc.companies.get(row.id) ?? []);
  }

  app.get('/api/v1/tickets', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List tickets (summaries: get one for its description, custom values and associations), newest activity first by default; filters combine, every one must hold', querystring: TicketListQuery, response: { 200: Page(TicketListItem), ...problemResponses } },
  }, async (request, reply) => {
    const q = request.query;
    const limit = q.limit ?? 25;
    const plan = await planTicketList(deps, q, () => access.ticketCatalogue());
    if (plan === null) return reply.type('application/json; charset=utf-8').send('{"items":[],"nextCursor":null}' as never);
    const { filter, sort } = plan;
    const keys = await repo.listTicketKeys(deps.db, filter, sort, decodeCursor(sort, q.cursor), limit);
    const page = toPage(keys, limit, sort, (k) => ({ value: k.sort_value, id: k.id }));
    let items = await summaries.render(deps.db, page.rows);
    const include = new Set((q.include ?? '').split(','));
    if (include.has('people') || include.has('properties')) {
      // Added in front of each cached summary's fields: ids and names, and the custom values.
      const ids = page.rows.map((k) => k.id);
      const people = include.has('people') ? await repo.peopleOf(deps.db, ids) : undefined;
      const values = include.has('properties') ? await repo.customValuesOf(deps.db, ids) : undefined;
      items = items.map((json) => {
        const id = (JSON.parse(json) as { id: number }).id;
        const extra: string[] = [];
        if (people !== undefined) {
          const found = people.get(id);
          extra.push(`"contacts":${JSON.stringify(found?.contacts ?? [])}`, `"companies":${JSON.stringify(found?.companies ?? [])}`);
        }
        if (values !== undefined) extra.push(`"properties":${JSON.stringify(readJsonObject(values.get(id) ?? null))}`);
        return `{${extra.join(',')},${json.slice(1)}`;
      });
    }
    const body = `{"items":[${items.join(',')}],"nextCursor":${page.nextCursor === null ? 'null' : JSON.stringify(page.nextCursor)}}`;
    return reply.type('application/json; charset=utf-8').send(body as never);
  });

  app.get('/api/v1/tickets/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Get a ticket', params: IdParams, response: { 200: Ticket, ...problemResponses } },
  }, async (request) => presentOne(await tickets.get(request.params.id)));

  app.post('/api/v1/tickets', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Create a ticket; a description also starts its conversation, which the customer sees on the portal', body: TicketCreate, response: { 201: Ticket, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(await presentOne(await newTickets.open(request.body, staffOf(request).actor.id))));

  app.patch('/api/v1/tickets/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Change a ticket (stage, priority, owner, custom properties, …)', params: IdParams, body: TicketUpdate, response: { 200: Ticket, ...problemResponses } },
  }, async (request) => presentOne(await tickets.update(request.params.id, request.body, staffOf(request).actor.id)));

  app.delete('/api/v1/tickets/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Delete a ticket (its conversations stay in their inbox)', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await tickets.delete(request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/tickets/:id/contacts', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Associate a contact', params: IdParams, body: ContactLink, response: { 200: Ticket, ...problemResponses } },
  }, async (request) => {
    await tickets.linkContact(request.params.id, request.body.contactId);
    return presentOne(await tickets.get(request.params.id));
  });

  app.delete('/api/v1/tickets/:id/contacts/:contactId', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Remove a contact association', params: TicketContactParams, response: { 200: Ticket, ...problemResponses } },
  }, async (request) => {
    await tickets.unlinkContact(request.params.id, request.params.contactId);
    return presentOne(await tickets.get(request.params.id));
  });

  app.post('/api/v1/tickets/:id/companies', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Associate a company', params: IdParams, body: CompanyLink, response: { 200: Ticket, ...problemResponses } },
  }, async (request) => {
    await tickets.linkCompany(request.params.id, request.body.companyId);
    return presentOne(await tickets.get(request.params.id));
  });

  app.delete('/api/v1/tickets/:id/companies/:companyId', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Remove a company association', params: TicketCompanyParams, response: { 200: Ticket, ...problemResponses } },
  }, async (request) => {
    await tickets.unlinkCompany(request.params.id, request.params.companyId);
    return presentOne(await tickets.get(request.params.id));
  });

  app.get('/api/v1/tickets/:id/timeline', {
    config: { access: 'staff' },
    schema: { tags, summary: "A ticket's timeline, newest first", params: IdParams, querystring: TimelineQuery, response: { 200: Page(Engagement), ...problemResponses } },
  }, async (request) => {
    await tickets.get(request.params.id);
    return timeline.page('ticket', request.params.id, decodeCursor(TimelineService.sort, request.query.cursor), request.query.limit ?? 25);
  });
}
