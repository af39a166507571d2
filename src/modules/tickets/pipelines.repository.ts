import { sql } from 'kysely';
import type { Conn } from '../../db/database.js';
import { readJsonArray } from '../../util/json.js';
import type { NewRow, Row, RowUpdate } from '../../db/schema.js';

export type PipelineRow = Row<'pipelines'>;
export type StageRow = Row<'stages'>;
export type PropertyRow = Row<'ticket_properties'>;

export function listPipelines(db: Conn): Promise<PipelineRow[]> {
  return db.selectFrom('pipelines').selectAll().orderBy('position').orderBy('id').execute();
}

export function findPipelineById(db: Conn, id: number): Promise<PipelineRow | undefined> {
  return db.selectFrom('pipelines').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertPipeline(db: Conn, row: NewRow<'pipelines'>): Promise<PipelineRow> {
  return db.insertInto('pipelines').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updatePipeline(db: Conn, id: number, patch: RowUpdate<'pipelines'>): Promise<PipelineRow | undefined> {
  return db.updateTable('pipelines').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deletePipeline(db: Conn, id: number): Promise<boolean> {
  const r = await db.deleteFrom('pipelines').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export function stagesOf(db: Conn, pipelineIds: number[]): Promise<StageRow[]> {
  if (pipelineIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('stages').selectAll().where('pipeline_id', 'in', pipelineIds).orderBy('pipeline_id').orderBy('position').orderBy('id').execute();
}

export function findStageById(db: Conn, id: number): Promise<StageRow | undefined> {
  return db.selectFrom('stages').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertStage(db: Conn, row: NewRow<'stages'>): Promise<StageRow> {
  return db.insertInto('stages').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateStage(db: Conn, id: number, patch: RowUpdate<'stages'>): Promise<StageRow | undefined> {
  return db.updateTable('stages').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteStage(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('stages').where('id', '=', id).execute();
}

export async function ticketsInStage(db: Conn, stageId: number): Promise<boolean> {
  const row = await db.selectFrom('tickets').select('id').where('stage_id', '=', stageId).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function ticketsInPipeline(db: Conn, pipelineId: number): Promise<boolean> {
  const row = await db.selectFrom('tickets').select('id').where('pipeline_id', '=', pipelineId).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Opens or closes every ticket in a stage, raising each one's revision on its associations too. */
export async function setClosedForStage(db: Conn, stageId: number, closed: boolean, at: number): Promise<void> {
  await db.updateTable('tickets')
    .set({ ...(closed ? { is_closed: 1, closed_at: at } : { is_closed: 0, closed_at: null }), updated_at: at, revision: sql<number>`revision + 1` })
    .where('stage_id', '=', stageId)
    .execute();
  for (const table of ['ticket_contacts', 'ticket_companies'] as const) {
    await db.updateTable(table)
      .set({ ticket_revision: sql<number>`(select t.revision from tickets t where t.id = ${sql.ref(`${table}.ticket_id`)})` })
      .where('ticket_id', 'in', db.selectFrom('tickets').select('id').where('stage_id', '=', stageId))
      .execute();
  }
}

// Ticket property definitions

export function listProperties(db: Conn): Promise<PropertyRow[]> {
  return db.selectFrom('ticket_properties').selectAll().orderBy('key').execute();
}

export function findPropertyById(db: Conn, id: number): Promise<PropertyRow | undefined> {
  return db.selectFrom('ticket_properties').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertProperty(db: Conn, row: NewRow<'ticket_properties'>): Promise<PropertyRow> {
  return db.insertInto('ticket_properties').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateProperty(db: Conn, id: number, patch: RowUpdate<'ticket_properties'>): Promise<PropertyRow | undefined> {
  return db.updateTable('ticket_properties').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Names of portals whose filter rules name the custom property `key`. */
export async function portalsFilteringOn(db: Conn, key: string): Promise<string[]> {
  const rows = await db.selectFrom('portals').select(['name', 'filters']).where('filters', 'like', `%"properties.${key}"%`).execute();
  return rows.filter((r) => readJsonArray<{ property?: unknown }>(r.filters).some((c) => c.property === `properties.${key}`)).map((r) => r.name);
}

export async function deleteProperty(db: Conn, id: number): Promise<boolean> {
  const r = await db.deleteFrom('ticket_properties').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}
