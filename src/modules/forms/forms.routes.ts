import { Type, type Static } from 'typebox';
import { IdParams, iso, problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import { Form, FormCreate, FormUpdate } from './forms.schemas.js';
import { fieldsOf, type FormRow, type FormsService } from './forms.service.js';
import { presentTranslations } from '../i18n/admin-text.js';

function present(row: FormRow): Static<typeof Form> {
  return { id: row.id, name: row.name, inboxId: row.inbox_id, fields: fieldsOf(row), translations: presentTranslations(row.translations), createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}

/** Support forms (C7): staff who manage settings build them; a portal opens one (P25). */
export function formsRoutes(app: App, { forms }: { forms: FormsService }): void {
  const tags = ['forms'];

  app.get('/api/v1/forms', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List support forms (all of them)', response: { 200: Type.Object({ items: Type.Array(Form), nextCursor: Type.Null() }), ...problemResponses } },
  }, async () => ({ items: (await forms.list()).map(present), nextCursor: null }));

  app.get('/api/v1/forms/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Get a support form', params: IdParams, response: { 200: Form, ...problemResponses } },
  }, async (request) => present(await forms.get(request.params.id)));

  app.post('/api/v1/forms', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Create a support form connected to an inbox; exactly one required text field maps to the subject', body: FormCreate, response: { 201: Form, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(present(await forms.create(request.body))));

  app.patch('/api/v1/forms/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Change a support form', params: IdParams, body: FormUpdate, response: { 200: Form, ...problemResponses } },
  }, async (request) => present(await forms.update(request.params.id, request.body)));

  app.delete('/api/v1/forms/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Delete a support form (portals that opened it no longer show the link)', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    await forms.delete(request.params.id);
    return reply.code(204).send(null);
  });
}
