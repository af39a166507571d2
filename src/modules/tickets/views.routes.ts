import { Type } from 'typebox';
import { staffOf } from '../../http/auth.js';
import { IdParams, problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import { presentView, type TicketViewsService } from './views.service.js';
import { TicketView, TicketViewCreate, TicketViewUpdate } from './views.schemas.js';

/** Saved views of the staff ticket list: shared ones, and each staff member's own. */
export function ticketViewsRoutes(app: App, { views }: { views: TicketViewsService }): void {
  const tags = ['tickets'];

  app.get('/api/v1/ticket-views', {
    config: { access: 'staff' },
    schema: { tags, summary: 'The saved views of the ticket list you see: the shared ones, then your own', response: { 200: Type.Object({ items: Type.Array(TicketView) }), ...problemResponses } },
  }, async (request) => {
    const actor = staffOf(request).actor;
    return { items: (await views.list(actor)).map((row) => presentView(actor, row)) };
  });

  app.post('/api/v1/ticket-views', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Save a view of the ticket list, yours alone or shared with everyone', body: TicketViewCreate, response: { 201: TicketView, ...problemResponses } },
  }, async (request, reply) => {
    const actor = staffOf(request).actor;
    return reply.code(201).send(presentView(actor, await views.create(actor, request.body)));
  });

  app.patch('/api/v1/ticket-views/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Rename or change a saved view', params: IdParams, body: TicketViewUpdate, response: { 200: TicketView, ...problemResponses } },
  }, async (request) => {
    const actor = staffOf(request).actor;
    return presentView(actor, await views.update(actor, request.params.id, request.body));
  });

  app.delete('/api/v1/ticket-views/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Delete a saved view', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await views.delete(staffOf(request).actor, request.params.id);
    return reply.code(204).send(null);
  });
}
