import type { Static } from 'typebox';
import { iso } from '../../http/common-schemas.js';
import type { PipelineWithStages } from './pipelines.service.js';
import type { PropertyRow } from './pipelines.repository.js';
import type { TicketRow, TicketSummaryRow } from './tickets.repository.js';
import type { Pipeline, Ticket, TicketProperty, TicketSummary } from './tickets.schemas.js';
import { customValuesOf } from './tickets.service.js';
import { readJsonArray } from '../../util/json.js';
import { presentTranslations } from '../i18n/admin-text.js';

export function presentPipeline({ pipeline, stages }: PipelineWithStages): Static<typeof Pipeline> {
  return {
    id: pipeline.id,
    name: pipeline.name,
    position: pipeline.position,
    stages: stages.map((s) => ({ id: s.id, pipelineId: s.pipeline_id, name: s.name, position: s.position, state: s.state, translations: presentTranslations(s.translations) })),
    createdAt: iso(pipeline.created_at),
    updatedAt: iso(pipeline.updated_at),
  };
}

export function presentProperty(row: PropertyRow): Static<typeof TicketProperty> {
  return {
    id: row.id,
    key: row.key,
    label: row.label,
    type: row.type,
    options: readJsonArray<{ value: string; label: string }>(row.options),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function presentTicket(row: TicketRow, contactIds: number[], companyIds: number[]): Static<typeof Ticket> {
  return { ...presentTicketSummary(row), description: row.description, properties: customValuesOf(row), contactIds, companyIds };
}

export function presentTicketSummary(row: TicketSummaryRow): Static<typeof TicketSummary> {
  return {
    id: row.id,
    subject: row.subject,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    status: row.is_closed === 1 ? 'closed' : 'open',
    priority: row.priority as Static<typeof TicketSummary>['priority'],
    category: row.category,
    source: row.source as Static<typeof TicketSummary>['source'],
    ownerId: row.owner_id,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    lastActivityAt: iso(row.last_activity_at),
    closedAt: iso(row.closed_at),
  };
}
