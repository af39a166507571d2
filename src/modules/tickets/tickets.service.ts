import type { Conn, Tx } from '../../db/database.js';
import type { RowUpdate } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { requireCompanies, requireContacts } from '../contacts/references.js';
import * as staffRepo from '../staff/staff.repository.js';
import type { TimelineService } from '../timeline/timeline.service.js';
import * as pipelinesRepo from './pipelines.repository.js';
import type { PipelinesService } from './pipelines.service.js';
import * as repo from './tickets.repository.js';
import { readJsonObject } from '../../util/json.js';

type CustomValues = Record<string, string | number | boolean | null>;

export interface TicketInput {
  subject: string;
  description?: string | null;
  pipelineId: number;
  stageId?: number;
  priority?: string | null;
  category?: string | null;
  source?: string;
  ownerId?: number | null;
  properties?: CustomValues;
  contactIds?: number[];
  companyIds?: number[];
  /** Opened by a mail whose sender could not be verified (C12): hidden from the portal until staff accept the mail. Never from the API. */
  held?: boolean;
}

export type TicketPatch = Partial<Omit<TicketInput, 'contactIds' | 'companyIds' | 'source' | 'held'>>;

export function customValuesOf(row: repo.TicketRow): CustomValues {
  return readJsonObject<CustomValues>(row.properties) as CustomValues;
}

/** Tickets (C2): their stage decides Open or Closed; associations carry last activity for fast lists. */
export class TicketsService {
  constructor(
    private readonly deps: Deps,
    private readonly pipelines: PipelinesService,
    private readonly timeline: TimelineService,
  ) {}

  async get(id: number, db: Conn = this.deps.db): Promise<repo.TicketRow> {
    const row = await repo.findTicketById(db, id);
    if (row === undefined) throw errors.notFound('ticket');
    return row;
  }

  /** The stage to use: the given one, which must be in the pipeline, or the pipeline's first. */
  private async resolveStage(db: Conn, pipelineId: number, stageId: number | undefined): Promise<pipelinesRepo.StageRow> {
    if ((await pipelinesRepo.findPipelineById(db, pipelineId)) === undefined) {
      throw errors.unprocessable('PIPELINE_NOT_FOUND', 'The pipeline does not exist.', [{ path: '/body/pipelineId', message: `There is no pipeline ${pipelineId}: choose one that exists.` }]);
    }
    if (stageId === undefined) {
      const [first] = await pipelinesRepo.stagesOf(db, [pipelineId]);
      if (first === undefined) throw errors.unprocessable('PIPELINE_HAS_NO_STAGES', 'The pipeline has no stages.');
      return first;
    }
    const stage = await pipelinesRepo.findStageById(db, stageId);
    if (stage?.pipeline_id !== pipelineId) {
      throw errors.unprocessable('STAGE_NOT_IN_PIPELINE', 'The stage is not in the ticket’s pipeline.', [{ path: '/body/stageId', message: `Stage ${stageId} is not in this ticket’s pipeline: choose one of its stages.` }]);
    }
    return stage;
  }

  private async requireOwner(db: Conn, ownerId: number | null | undefined): Promise<void> {
    if (ownerId === undefined || ownerId === null) return;
    if ((await staffRepo.findStaffById(db, ownerId)) === undefined) {
      throw errors.unprocessable('OWNER_NOT_FOUND', 'The owner is not a staff user.', [{ path: '/body/ownerId', message: `There is no staff user ${ownerId}: choose one that exists.` }]);
    }
  }

  /**
   * Creates a ticket with its associations. A contact's primary company is associated too,
   * unless companies are given explicitly.
   */
  async create(input: TicketInput, actorId: number | null, db?: Tx): Promise<repo.TicketRow> {
    const run = async (tx: Tx) => {
      const now = this.deps.clock.now();
      const stage = await this.resolveStage(tx, input.pipelineId, input.stageId);
      await this.requireOwner(tx, input.ownerId);
      const contactIds = input.contactIds ?? [];
      await requireContacts(tx, contactIds, '/body/contactIds');
      let companyIds = input.companyIds;
      if (companyIds === undefined) companyIds = [...new Set(await repo.primaryCompaniesOf(tx, contactIds))];
      else await requireCompanies(tx, companyIds, '/body/companyIds');
      const properties = await this.pipelines.checkCustomValues(tx, input.properties ?? {}, '/body/properties');
      const closed = stage.state === 'closed';
      const ticket = await repo.insertTicket(tx, {
        subject: input.subject.trim(),
        description: input.description ?? null,
        pipeline_id: input.pipelineId,
        stage_id: stage.id,
        is_closed: closed ? 1 : 0,
        priority: input.priority ?? null,
        category: input.category === undefined || input.category === null || input.category.trim() === '' ? null : input.category.trim(),
        source: input.source ?? 'api',
        owner_id: input.ownerId ?? null,
        properties: JSON.stringify(Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== null))),
        created_at: now,
        updated_at: now,
        last_activity_at: now,
        closed_at: closed ? now : null,
        held: input.held === true ? 1 : 0,
      });
      for (const c of contactIds) await repo.linkContact(tx, ticket, c);
      for (const c of companyIds) await repo.linkCompany(tx, ticket, c);
      await this.timeline.record(tx, {
        type: 'ticket_created', occurredAt: now, title: `Ticket #${ticket.id} created: ${ticket.subject}`, ticketId: ticket.id, staffUserId: actorId,
        targets: [{ type: 'ticket', id: ticket.id }, ...contactIds.map((id) => ({ type: 'contact' as const, id })), ...companyIds.map((id) => ({ type: 'company' as const, id }))],
      });
      return ticket;
    };
    return db === undefined ? this.deps.db.transaction().execute(run) : run(db);
  }

  async update(id: number, patch: TicketPatch, actorId: number | null): Promise<repo.TicketRow> {
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.get(id, tx);
      const now = this.deps.clock.now();
      const set: RowUpdate<'tickets'> = { updated_at: now };
      if (patch.subject !== undefined) set.subject = patch.subject.trim();
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.priority !== undefined) set.priority = patch.priority;
      if (patch.category !== undefined) set.category = patch.category === null || patch.category.trim() === '' ? null : patch.category.trim();
      if (patch.ownerId !== undefined) {
        await this.requireOwner(tx, patch.ownerId);
        set.owner_id = patch.ownerId;
      }
      let stageChange: pipelinesRepo.StageRow | undefined;
      if (patch.pipelineId !== undefined || patch.stageId !== undefined) {
        const pipelineId = patch.pipelineId ?? current.pipeline_id;
        // Moving to another pipeline without a stage lands on that pipeline's first stage.
        const stageId = patch.stageId ?? (pipelineId === current.pipeline_id ? current.stage_id : undefined);
        const stage = await this.resolveStage(tx, pipelineId, stageId);
        set.pipeline_id = pipelineId;
        set.stage_id = stage.id;
        if (stage.id !== current.stage_id) stageChange = stage;
        const closed = stage.state === 'closed';
        set.is_closed = closed ? 1 : 0;
        if (closed && current.is_closed === 0) set.closed_at = now;
        if (!closed) set.closed_at = null;
      }
      if (patch.properties !== undefined) {
        const clean = await this.pipelines.checkCustomValues(tx, patch.properties, '/body/properties');
        const merged = { ...customValuesOf(current), ...clean };
        set.properties = JSON.stringify(Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null)));
      }
      const ticket = await repo.updateTicket(tx, id, set);
      if (ticket === undefined) throw errors.notFound('ticket');
      if (stageChange !== undefined) {
        const assoc = await repo.associationsOf(tx, [id]);
        await this.timeline.record(tx, {
          type: 'stage_changed', occurredAt: now, title: `Ticket #${id} moved to ${stageChange.name}`, ticketId: id, staffUserId: actorId,
          targets: [{ type: 'ticket', id }, ...(assoc.contacts.get(id) ?? []).map((c) => ({ type: 'contact' as const, id: c }))],
        });
      }
      return ticket;
    });
  }

  async delete(id: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await repo.deleteTicket(tx, id))) throw errors.notFound('ticket');
      await this.timeline.forgetTarget(tx, 'ticket', id);
    });
  }

  /** Records activity on a ticket (a message, a comment), in the caller's transaction. */
  /**
   * A held ticket's mail was accepted by staff (C12): the ticket may show on the portal, filed
   * under `contactId` (and the contact's primary company) when the mail named no known contact.
   */
  async releaseHeldIn(tx: Tx, ticketId: number, contactId: number | null): Promise<void> {
    const ticket = await repo.findTicketById(tx, ticketId);
    if (ticket === undefined) return;
    if (contactId !== null) {
      await repo.linkContact(tx, ticket, contactId);
      for (const companyId of await repo.primaryCompaniesOf(tx, [contactId])) await repo.linkCompany(tx, ticket, companyId);
    }
    if (ticket.held === 1) await repo.updateTicket(tx, ticketId, { held: 0, updated_at: this.deps.clock.now() });
  }

  touchActivity(tx: Tx, ticketId: number, at: number): Promise<void> {
    return repo.setLastActivity(tx, ticketId, at);
  }

  async linkContact(id: number, contactId: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const ticket = await this.get(id, tx);
      await requireContacts(tx, [contactId], '/body/contactId');
      await repo.linkContact(tx, ticket, contactId);
    });
  }

  async unlinkContact(id: number, contactId: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await this.get(id, tx);
      if (!(await repo.unlinkContact(tx, id, contactId))) throw errors.notFound('contact association');
    });
  }

  async linkCompany(id: number, companyId: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const ticket = await this.get(id, tx);
      await requireCompanies(tx, [companyId], '/body/companyId');
      await repo.linkCompany(tx, ticket, companyId);
    });
  }

  async unlinkCompany(id: number, companyId: number): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await this.get(id, tx);
      if (!(await repo.unlinkCompany(tx, id, companyId))) throw errors.notFound('company association');
    });
  }
}
