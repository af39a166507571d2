import type { Conn } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { RowUpdate } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors, type FieldError } from '../../errors.js';
import * as repo from './pipelines.repository.js';
import { readJsonArray } from '../../util/json.js';
import { checkLanguages, storeTranslations } from '../i18n/admin-text.js';

export interface PipelineWithStages {
  pipeline: repo.PipelineRow;
  stages: repo.StageRow[];
}

/** A stage's name by language code (admin-text.ts). */
type StageTranslations = Record<string, { name?: string }>;

export interface PropertyOption {
  value: string;
  label: string;
}

/** Pipelines with ordered stages, each Open or Closed (C2), and ticket property definitions. */
export class PipelinesService {
  constructor(private readonly deps: Deps) {}

  async list(): Promise<PipelineWithStages[]> {
    const pipelines = await repo.listPipelines(this.deps.db);
    const stages = await repo.stagesOf(this.deps.db, pipelines.map((p) => p.id));
    return pipelines.map((pipeline) => ({ pipeline, stages: stages.filter((s) => s.pipeline_id === pipeline.id) }));
  }

  async get(id: number, db: Conn = this.deps.db): Promise<PipelineWithStages> {
    const pipeline = await repo.findPipelineById(db, id);
    if (pipeline === undefined) throw errors.notFound('pipeline');
    return { pipeline, stages: await repo.stagesOf(db, [id]) };
  }

  async create(input: { name: string; position?: number; stages: { name: string; state: 'open' | 'closed' }[] }): Promise<PipelineWithStages> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const count = (await repo.listPipelines(tx)).length;
      const pipeline = await repo.insertPipeline(tx, { name: input.name, position: input.position ?? count, created_at: now, updated_at: now });
      const stages: repo.StageRow[] = [];
      for (const [i, s] of input.stages.entries()) {
        stages.push(await repo.insertStage(tx, { pipeline_id: pipeline.id, name: s.name, state: s.state, position: i, created_at: now, updated_at: now }));
      }
      return { pipeline, stages };
    });
  }

  async update(id: number, patch: { name?: string; position?: number }): Promise<PipelineWithStages> {
    const set: RowUpdate<'pipelines'> = { updated_at: this.deps.clock.now() };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.position !== undefined) set.position = patch.position;
    if ((await repo.updatePipeline(this.deps.db, id, set)) === undefined) throw errors.notFound('pipeline');
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      if ((await repo.findPipelineById(tx, id)) === undefined) throw errors.notFound('pipeline');
      if (await repo.ticketsInPipeline(tx, id)) throw errors.conflict('PIPELINE_IN_USE', 'Tickets are in this pipeline; move them first.');
      await repo.deletePipeline(tx, id);
    });
  }

  async addStage(pipelineId: number, input: { name: string; state: 'open' | 'closed'; position?: number; translations?: StageTranslations }): Promise<PipelineWithStages> {
    checkLanguages(input.translations);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const { stages } = await this.get(pipelineId, tx);
      await repo.insertStage(tx, { pipeline_id: pipelineId, name: input.name, state: input.state, position: input.position ?? stages.length, translations: storeTranslations(input.translations), created_at: now, updated_at: now });
      await repo.updatePipeline(tx, pipelineId, { updated_at: now });
      return this.get(pipelineId, tx);
    });
  }

  /** Changing a stage's state opens or closes every ticket in it, in the same transaction. */
  async updateStage(pipelineId: number, stageId: number, patch: { name?: string; state?: 'open' | 'closed'; position?: number; translations?: StageTranslations }): Promise<PipelineWithStages> {
    checkLanguages(patch.translations);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const stage = await repo.findStageById(tx, stageId);
      if (stage?.pipeline_id !== pipelineId) throw errors.notFound('stage');
      const set: RowUpdate<'stages'> = { updated_at: now };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.position !== undefined) set.position = patch.position;
      if (patch.state !== undefined) set.state = patch.state;
      if (patch.translations !== undefined) set.translations = storeTranslations(patch.translations);
      await repo.updateStage(tx, stageId, set);
      if (patch.state !== undefined && patch.state !== stage.state) await repo.setClosedForStage(tx, stageId, patch.state === 'closed', now);
      await repo.updatePipeline(tx, pipelineId, { updated_at: now });
      return this.get(pipelineId, tx);
    });
  }

  async deleteStage(pipelineId: number, stageId: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const stage = await repo.findStageById(tx, stageId);
      if (stage?.pipeline_id !== pipelineId) throw errors.notFound('stage');
      if (await repo.ticketsInStage(tx, stageId)) throw errors.conflict('STAGE_IN_USE', 'Tickets are in this stage; move them first.');
      if ((await repo.stagesOf(tx, [pipelineId])).length <= 1) throw errors.conflict('LAST_STAGE', 'A pipeline keeps at least one stage.');
      await repo.deleteStage(tx, stageId);
    });
  }

  // Ticket properties

  listProperties(): Promise<repo.PropertyRow[]> {
    return repo.listProperties(this.deps.db);
  }

  async getProperty(id: number): Promise<repo.PropertyRow> {
    const row = await repo.findPropertyById(this.deps.db, id);
    if (row === undefined) throw errors.notFound('ticket property');
    return row;
  }

  private checkOptions(type: string, options: PropertyOption[] | undefined): void {
    if (type === 'enumeration' && (options === undefined || options.length === 0)) {
      throw errors.unprocessable('OPTIONS_REQUIRED', 'An enumeration needs options.', [{ path: '/body/options', message: 'Add at least one option.' }]);
    }
    if (type !== 'enumeration' && options !== undefined && options.length > 0) {
      throw errors.unprocessable('OPTIONS_NOT_ALLOWED', 'Only an enumeration has options.', [{ path: '/body/options', message: 'Only a property with a list of options takes options: leave this out.' }]);
    }
    const values = (options ?? []).map((o) => o.value);
    if (new Set(values).size !== values.length) {
      throw errors.unprocessable('DUPLICATE_OPTION', 'Option values must differ.', [{ path: '/body/options', message: 'Give each option a value of its own: one is used twice.' }]);
    }
  }

  async createProperty(input: { key: string; label: string; type: repo.PropertyRow['type']; options?: PropertyOption[] }): Promise<repo.PropertyRow> {
    this.checkOptions(input.type, input.options);
    const now = this.deps.clock.now();
    try {
      return await repo.insertProperty(this.deps.db, {
        key: input.key, label: input.label, type: input.type,
        options: input.type === 'enumeration' ? JSON.stringify(input.options) : null,
        created_at: now, updated_at: now,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw errors.conflict('PROPERTY_KEY_TAKEN', 'A ticket property with this key exists.');
      throw error;
    }
  }

  async updateProperty(id: number, patch: { label?: string; options?: PropertyOption[] }): Promise<repo.PropertyRow> {
    const current = await this.getProperty(id);
    if (patch.options !== undefined) this.checkOptions(current.type, patch.options);
    const set: RowUpdate<'ticket_properties'> = { updated_at: this.deps.clock.now() };
    if (patch.label !== undefined) set.label = patch.label;
    if (patch.options !== undefined) set.options = JSON.stringify(patch.options);
    const row = await repo.updateProperty(this.deps.db, id, set);
    if (row === undefined) throw errors.notFound('ticket property');
    return row;
  }

  /** A property a portal's filter rules name cannot go: the portal would no longer know whom to show what. */
  async deleteProperty(id: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const property = await repo.findPropertyById(tx, id);
      if (property === undefined) throw errors.notFound('ticket property');
      const portals = await repo.portalsFilteringOn(tx, property.key);
      if (portals.length > 0) {
        throw errors.conflict('PROPERTY_IN_USE', `Portal filter rules use this property (${portals.join(', ')}); change them first.`);
      }
      await repo.deleteProperty(tx, id);
    });
  }

  /**
   * Checks custom property values against their definitions. Unknown keys and wrong types answer
   * 422; null clears a value. Values of deleted definitions are dropped when a ticket is written.
   */
  async checkCustomValues(db: Conn, values: Record<string, unknown>, basePath: string): Promise<Record<string, string | number | boolean | null>> {
    const defs = new Map((await repo.listProperties(db)).map((d) => [d.key, d]));
    const problems: FieldError[] = [];
    const clean: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries(values)) {
      const def = defs.get(key);
      const path = `${basePath}/${key}`;
      if (def === undefined) {
        problems.push({ path, message: 'There is no ticket property with this key: add it in the ticket settings first.' });
        continue;
      }
      if (value === null) {
        clean[key] = null;
        continue;
      }
      const ok = (() => {
        switch (def.type) {
          case 'text':
            return typeof value === 'string';
          case 'number':
            return typeof value === 'number' && Number.isFinite(value);
          case 'boolean':
            return typeof value === 'boolean';
          case 'date':
            // Date.parse rolls 2026-02-30 over to March 2; a real date reads back unchanged.
            return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString().startsWith(value);
          case 'enumeration': {
            const options = readJsonArray<PropertyOption>(def.options);
            return typeof value === 'string' && options.some((o) => o.value === value);
          }
        }
      })();
      if (!ok) {
        problems.push({ path, message: def.type === 'enumeration' ? 'Choose one of the property’s options.' : def.type === 'date' ? 'Enter a date, like 2026-12-31.' : def.type === 'boolean' ? 'Choose true or false.' : def.type === 'number' ? 'Enter a number.' : 'Enter text.' });
        continue;
      }
      clean[key] = value as string | number | boolean;
    }
    if (problems.length > 0) throw errors.unprocessable('INVALID_PROPERTY_VALUE', 'A custom property value is not valid.', problems);
    return clean;
  }
}
