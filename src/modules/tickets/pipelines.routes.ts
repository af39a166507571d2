import { Type } from 'typebox';
import { IdParams, problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import { presentPipeline, presentProperty } from './tickets.presenter.js';
import type { PipelinesService } from './pipelines.service.js';
import {
  Pipeline, PipelineCreate, PipelineUpdate, StageCreate, StageParams, StageUpdate, TicketProperty, TicketPropertyCreate, TicketPropertyQuery, TicketPropertyUpdate,
} from './tickets.schemas.js';

const List = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: Type.Null() });
const noContent = { 204: Type.Null(), ...problemResponses };

/** Pipelines and ticket properties: read by every agent, changed with manage_settings. */
export function pipelinesRoutes(app: App, { pipelines }: { pipelines: PipelinesService }): void {
  const tags = ['pipelines'];

  app.get('/api/v1/pipelines', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List pipelines with their stages (all of them, in order)', response: { 200: List(Pipeline), ...problemResponses } },
  }, async () => ({ items: (await pipelines.list()).map(presentPipeline), nextCursor: null }));

  app.get('/api/v1/pipelines/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Get a pipeline', params: IdParams, response: { 200: Pipeline, ...problemResponses } },
  }, async (request) => presentPipeline(await pipelines.get(request.params.id)));

  app.post('/api/v1/pipelines', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Create a pipeline with its stages', body: PipelineCreate, response: { 201: Pipeline, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentPipeline(await pipelines.create(request.body))));

  app.patch('/api/v1/pipelines/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Rename or reorder a pipeline', params: IdParams, body: PipelineUpdate, response: { 200: Pipeline, ...problemResponses } },
  }, async (request) => presentPipeline(await pipelines.update(request.params.id, request.body)));

  app.delete('/api/v1/pipelines/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Delete an empty pipeline', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await pipelines.delete(request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/pipelines/:id/stages', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Add a stage', params: IdParams, body: StageCreate, response: { 201: Pipeline, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentPipeline(await pipelines.addStage(request.params.id, request.body))));

  app.patch('/api/v1/pipelines/:id/stages/:stageId', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Change a stage; a new state opens or closes its tickets', params: StageParams, body: StageUpdate, response: { 200: Pipeline, ...problemResponses } },
  }, async (request) => presentPipeline(await pipelines.updateStage(request.params.id, request.params.stageId, request.body)));

  app.delete('/api/v1/pipelines/:id/stages/:stageId', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Delete an empty stage', params: StageParams, response: noContent },
  }, async (request, reply) => {
    await pipelines.deleteStage(request.params.id, request.params.stageId);
    return reply.code(204).send(null);
  });

  const ptags = ['ticket properties'];
  app.get('/api/v1/ticket-properties', {
    config: { access: 'staff' },
    schema: { tags: ptags, summary: 'List custom ticket property definitions (all of them)', querystring: TicketPropertyQuery, response: { 200: List(TicketProperty), ...problemResponses } },
  }, async () => ({ items: (await pipelines.listProperties()).map(presentProperty), nextCursor: null }));

  app.get('/api/v1/ticket-properties/:id', {
    config: { access: 'staff' },
    schema: { tags: ptags, summary: 'Get a ticket property definition', params: IdParams, response: { 200: TicketProperty, ...problemResponses } },
  }, async (request) => presentProperty(await pipelines.getProperty(request.params.id)));

  app.post('/api/v1/ticket-properties', {
    config: { access: 'manage_settings' },
    schema: { tags: ptags, summary: 'Define a custom ticket property', body: TicketPropertyCreate, response: { 201: TicketProperty, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentProperty(await pipelines.createProperty(request.body))));

  app.patch('/api/v1/ticket-properties/:id', {
    config: { access: 'manage_settings' },
    schema: { tags: ptags, summary: 'Change a property’s label or options (its key and type are fixed)', params: IdParams, body: TicketPropertyUpdate, response: { 200: TicketProperty, ...problemResponses } },
  }, async (request) => presentProperty(await pipelines.updateProperty(request.params.id, request.body)));

  app.delete('/api/v1/ticket-properties/:id', {
    config: { access: 'manage_settings' },
    schema: { tags: ptags, summary: 'Delete a property definition', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await pipelines.deleteProperty(request.params.id);
    return reply.code(204).send(null);
  });
}
