import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * Which messages of a ticket's thread a customer may read (P16, P17, C12), as one SQL condition
 * on a messages row aliased `alias`: messages, never internal comments, and never one held
 * because its sender could not be verified and no staff member has accepted it yet. The portal's
 * ticket page, the tickets' search documents and attachment downloads all go through it.
 */
export function customerVisibleMessage(alias: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(`${alias}.kind`)} = 'message' and ${sql.ref(`${alias}.held`)} = 0)`;
}
