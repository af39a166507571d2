import { Type, type Static } from 'typebox';
import { Id, iso, Nullable, Page, PageQuery, problemResponses, Timestamp } from '../../http/common-schemas.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { App } from '../../http/types.js';
import { REASON_TEXT, SIGN_IN_LOG_SORT, SIGN_IN_METHODS, SIGN_IN_OUTCOMES, SIGN_IN_REASONS, type SignInEventRow, type SignInLog } from '../members/sign-in-log.js';
import type { PortalsService } from './portals.service.js';

const SignInEntry = Type.Object({
  id: Type.Integer(),
  occurredAt: Timestamp,
  method: Type.Enum([...SIGN_IN_METHODS], { description: 'How: a password, an emailed sign-in link, an invitation or password reset link, an address confirmation, or single sign-on' }),
  outcome: Type.Enum([...SIGN_IN_OUTCOMES], { description: 'signed_in; refused (the password, link or provider’s answer did not prove who it was); denied (proven, but not let in)' }),
  reason: Type.Enum([...SIGN_IN_REASONS], { description: 'Why, as a stable code' }),
  reasonText: Type.String({ description: 'Why, in words for an admin' }),
  detail: Nullable(Type.String({ description: 'More about the reason, such as which check of a provider’s answer failed' })),
  email: Nullable(Type.String({ description: 'The email address typed or asserted (lower case)' })),
  subject: Nullable(Type.String({ description: 'The identity provider’s id for the person' })),
  memberId: Nullable(Type.Integer()),
  provider: Nullable(Type.Object({ id: Nullable(Type.Integer({ description: 'Null once the provider was removed' })), name: Type.String() })),
  ip: Nullable(Type.String({ description: 'The client address' })),
  userAgent: Nullable(Type.String()),
});

const LogQuery = Type.Object(
  {
    outcome: Type.Optional(Type.Enum([...SIGN_IN_OUTCOMES])),
    method: Type.Optional(Type.Enum([...SIGN_IN_METHODS])),
    email: Type.Optional(Type.String({ maxLength: 254, description: 'Entries whose email address starts with this' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

function present(row: SignInEventRow): Static<typeof SignInEntry> {
  const reason = (SIGN_IN_REASONS as readonly string[]).includes(row.reason) ? row.reason as keyof typeof REASON_TEXT : 'sso_proof_invalid';
  return {
    id: row.id,
    occurredAt: iso(row.occurred_at),
    method: row.method,
    outcome: row.outcome,
    reason,
    reasonText: REASON_TEXT[reason],
    detail: row.detail,
    email: row.email,
    subject: row.subject,
    memberId: row.member_id,
    provider: row.provider_name === null ? null : { id: row.provider_id, name: row.provider_name },
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

/** A portal's sign-in log (C11): staff with the portal settings permission (P3). */
export function signInLogRoutes(app: App, { log, portals }: { log: SignInLog; portals: PortalsService }): void {
  app.get('/api/v1/portals/:id/sign-in-log', {
    config: { access: 'portal_settings' },
    schema: {
      tags: ['portals'],
      summary: 'Every sign-in to the portal and every refusal, newest first, with how and why (what the customer was only told as “Access denied”)',
      params: Type.Object({ id: Id }, { additionalProperties: false }),
      querystring: LogQuery,
      response: { 200: Page(SignInEntry), ...problemResponses },
    },
  }, async (request) => {
    const portal = await portals.get(request.params.id);
    const { outcome, method, email, cursor, limit = 25 } = request.query;
    const rows = await log.list(portal.id, { ...(outcome === undefined ? {} : { outcome }), ...(method === undefined ? {} : { method }), ...(email === undefined ? {} : { email }) }, decodeCursor(SIGN_IN_LOG_SORT, cursor), limit);
    const page = toPage(rows, limit, SIGN_IN_LOG_SORT, (r) => ({ value: r.occurred_at, id: r.id }));
    return { items: page.rows.map(present), nextCursor: page.nextCursor };
  });
}
