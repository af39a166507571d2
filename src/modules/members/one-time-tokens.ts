import type { Conn } from '../../db/database.js';
import type { Row, TokenPurpose } from '../../db/schema.js';
import { randomToken, sha256Hex } from '../../security/secrets.js';

/** How long each kind of link works. */
export const TOKEN_TTL_MS: Record<TokenPurpose, number> = {
  reset: 60 * 60_000,
  magic: 15 * 60_000,
  verify: 24 * 60 * 60_000,
  invite: 7 * 24 * 60 * 60_000,
  email: 24 * 60 * 60_000,
};

export type TokenRow = Row<'one_time_tokens'>;

/** What randomToken(32) makes; anything else is not ours and is not even hashed. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * A new one-time link for a member: 256 random bits, of which only the sha256 is stored. Any
 * earlier unused link of the same purpose stops working, so only the newest email counts.
 */
export async function issueToken(db: Conn, purpose: TokenPurpose, portalId: number, memberId: number, now: number, payload: string | null = null): Promise<string> {
  await db.updateTable('one_time_tokens').set({ used_at: now })
    .where('member_id', '=', memberId).where('purpose', '=', purpose).where('used_at', 'is', null).execute();
  const token = randomToken(32);
  await db.insertInto('one_time_tokens').values({
    token_hash: sha256Hex(token), purpose, portal_id: portalId, member_id: memberId, payload, expires_at: now + TOKEN_TTL_MS[purpose], created_at: now,
  }).execute();
  return token;
}

/** The token's row while it can still be used on this portal for this purpose; nothing changes. */
export async function peekToken(db: Conn, purpose: TokenPurpose, portalId: number, token: string, now: number): Promise<TokenRow | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  return db.selectFrom('one_time_tokens').selectAll()
    .where('token_hash', '=', sha256Hex(token)).where('purpose', '=', purpose).where('portal_id', '=', portalId)
    .where('used_at', 'is', null).where('expires_at', '>', now)
    .executeTakeFirst();
}

/** Uses the token up, in one statement: of two requests with the same link, one gets the row. */
export async function consumeToken(db: Conn, purpose: TokenPurpose, portalId: number, token: string, now: number): Promise<TokenRow | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  return db.updateTable('one_time_tokens').set({ used_at: now })
    .where('token_hash', '=', sha256Hex(token)).where('purpose', '=', purpose).where('portal_id', '=', portalId)
    .where('used_at', 'is', null).where('expires_at', '>', now)
    .returningAll().executeTakeFirst();
}

/** Forgets tokens that can no longer be used. */
export async function purgeTokens(db: Conn, now: number): Promise<number> {
  const r = await db.deleteFrom('one_time_tokens').where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)])).executeTakeFirst();
  return Number(r.numDeletedRows);
}
