import type { Kysely } from 'kysely';

/**
 * Who sent incoming mail (C12): each mail keeps the connection it came on (the client's address
 * and HELO name, beside the envelope sender already kept) and the verdict of the SPF, DKIM and
 * DMARC checks (JSON). A message from mail keeps the same verdict; one whose sender could not be
 * verified by its domain's DMARC policy is held (kept off the portal) until a staff member
 * accepts it, and so is a ticket such a mail opened. Frozen once merged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('inbound_mail').addColumn('client_ip', 'text').execute();
  await db.schema.alterTable('inbound_mail').addColumn('helo', 'text').execute();
  await db.schema.alterTable('inbound_mail').addColumn('authentication', 'text').execute();

  await db.schema.alterTable('messages').addColumn('authentication', 'text').execute();
  await db.schema.alterTable('messages').addColumn('held', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('messages').addColumn('accepted_at', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('accepted_by_staff_id', 'integer', (c) => c.references('staff_users.id').onDelete('set null')).execute();

  await db.schema.alterTable('tickets').addColumn('held', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tickets').dropColumn('held').execute();
  await db.schema.alterTable('messages').dropColumn('accepted_by_staff_id').execute();
  await db.schema.alterTable('messages').dropColumn('accepted_at').execute();
  await db.schema.alterTable('messages').dropColumn('held').execute();
  await db.schema.alterTable('messages').dropColumn('authentication').execute();
  await db.schema.alterTable('inbound_mail').dropColumn('authentication').execute();
  await db.schema.alterTable('inbound_mail').dropColumn('helo').execute();
  await db.schema.alterTable('inbound_mail').dropColumn('client_ip').execute();
}
