import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { randomToken, sha256Hex } from '../../security/secrets.js';
import { REASON_TEXT } from '../members/sign-in-log.js';
import type { AssertedIdentity } from './sign-in.js';
import type { DenialCode, RefusalCode } from './refusals.js';

/** How long an admin's test sign-in may take, from the button to the provider's answer. */
export const TEST_SIGN_IN_TTL_MS = 10 * 60_000;

/** What a test sign-in found: the identity the provider proved and what the portal would do with it, or why it stopped. */
export type TestResult =
  | { outcome: 'would_sign_in'; identity: AssertedIdentity; message: string }
  | { outcome: 'denied' | 'refused'; identity: AssertedIdentity | null; code: DenialCode | RefusalCode; message: string; detail: string | null };

export interface TestSignIn {
  id: string;
  providerId: number;
  staffId: number;
  startedAt: number;
  expiresAt: number;
  result: TestResult | null;
}

interface Stored {
  staffId: number;
  startedAt: number;
  result: TestResult | null;
}

const resultKey = (id: string) => `test:${sha256Hex(id)}`;
const linkKey = (token: string) => `testlink:${sha256Hex(token)}`;

/** The admin's words for a denial or refusal code (the sign-in log's). */
export function reasonText(code: DenialCode | RefusalCode): string {
  return REASON_TEXT[`sso_${code}`];
}

/**
 * An admin's test sign-ins through a provider: started from the staff app, run on the portal's
 * host through the provider like a customer's sign-in, and finished without a session: the
 * outcome is kept here (in sso_flows, like every sign-in in flight, so any process may finish
 * it) for the admin's screen to read. Two keys: the id the staff app polls with, and a link
 * token that starts the sign-in once; neither is stored, only their hashes.
 */
export class TestSignIns {
  constructor(private readonly deps: Deps) {}

  async start(providerId: number, staffId: number): Promise<{ id: string; linkToken: string; startedAt: number; expiresAt: number }> {
    const id = randomToken(32);
    const linkToken = randomToken(32);
    const now = this.deps.clock.now();
    const expiresAt = now + TEST_SIGN_IN_TTL_MS;
    const stored: Stored = { staffId, startedAt: now, result: null };
    await this.deps.db.insertInto('sso_flows').values([
      { key: resultKey(id), provider_id: providerId, browser_hash: null, payload: JSON.stringify(stored), expires_at: expiresAt },
      { key: linkKey(linkToken), provider_id: providerId, browser_hash: null, payload: JSON.stringify({ id }), expires_at: expiresAt },
    ]).execute();
    return { id, linkToken, startedAt: now, expiresAt };
  }

  /** The test a link starts, once; undefined when unknown, used, expired or another provider's. */
  async takeLink(providerId: number, linkToken: string): Promise<string | undefined> {
    const row = await this.deps.db.deleteFrom('sso_flows').where('key', '=', linkKey(linkToken)).where('provider_id', '=', providerId)
      .returning(['payload', 'expires_at']).executeTakeFirst();
    if (row === undefined || row.expires_at <= this.deps.clock.now()) return undefined;
    return (JSON.parse(row.payload) as { id: string }).id;
  }

  /** Keeps the outcome of a test (the first one: a test ends once). */
  async finish(providerId: number, id: string, result: TestResult): Promise<void> {
    const row = await this.deps.db.selectFrom('sso_flows').select(['payload', 'expires_at']).where('key', '=', resultKey(id)).where('provider_id', '=', providerId).executeTakeFirst();
    if (row === undefined) return;
    const stored = JSON.parse(row.payload) as Stored;
    if (stored.result !== null) return;
    await this.deps.db.updateTable('sso_flows').set({ payload: JSON.stringify({ ...stored, result }) }).where('key', '=', resultKey(id)).execute();
  }

  /** A test as the staff user who started it sees it; 404 for anyone else's, or one past its time. */
  async get(providerId: number, id: string, staffId: number): Promise<TestSignIn> {
    const row = await this.deps.db.selectFrom('sso_flows').select(['payload', 'expires_at']).where('key', '=', resultKey(id)).where('provider_id', '=', providerId).executeTakeFirst();
    const stored = row === undefined ? undefined : (JSON.parse(row.payload) as Stored);
    if (row === undefined || stored === undefined || stored.staffId !== staffId || row.expires_at <= this.deps.clock.now()) throw errors.notFound('test sign-in');
    return { id, providerId, staffId, startedAt: stored.startedAt, expiresAt: row.expires_at, result: stored.result };
  }
}
