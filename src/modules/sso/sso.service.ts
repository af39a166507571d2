import type { CacheProvider } from '@node-saml/node-saml';
import type { Conn, Tx } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import type { OutboundClient } from '../../security/outbound.js';
import { SecretBox } from '../../security/sealed.js';
import { sha256Hex } from '../../security/secrets.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import { portalUrl } from '../members/account.service.js';
import type { MemberAuthService, SessionMeta } from '../members/member-auth.service.js';
import type { PortalRow } from '../portal/portals.service.js';
import { JwtVerifier } from './jwt.js';
import { OidcRelyingParty } from './oidc.js';
import { SsoSignIn, type AssertedIdentity, type SignInOptions, type SsoSession } from './sign-in.js';
import type { SsoDenied, SsoRefused } from './refusals.js';
import { ProviderSettingsChecker, type ProviderInput } from './provider-settings.js';
import { SAML_REQUEST_TTL_MS, SamlServiceProvider } from './saml.js';
import { checkDiscovery, type DiscoveryFound } from './oidc-discovery.js';
import { TestSignIns } from './test-sign-ins.js';
import type { JwtSecretsT, JwtSettingsT, OidcSecretsT, OidcSettingsT, SamlSettingsT, SsoKindT } from './sso.schemas.js';

export type ProviderRow = Row<'sso_providers'>;
export type { AssertedIdentity } from './sign-in.js';

/** A provider as saved, with what the admin should know about the change (plain sentences). */
export interface SavedProvider {
  row: ProviderRow;
  warnings: string[];
}

/** How long an OpenID Connect sign-in may take between our redirect and its callback. */
export const OIDC_FLOW_TTL_MS = 10 * 60_000;

function readJson(text: string): unknown {
  return JSON.parse(text);
}

/** The setting that names whom a provider trusts: its identities are that issuer's subjects. */
const ISSUER_SETTING: Record<SsoKindT, string> = { saml: 'idpEntityId', jwt: 'issuer', oidc: 'issuer' };

/** What the admin is told when an issuer change removed sign-in links. */
function linksRemoved(kind: SsoKindT, count: number): string {
  const what = kind === 'saml' ? 'The identity provider’s entity id changed' : 'The issuer changed';
  return count === 1
    ? `${what}, so 1 sign-in link made through the old one was removed: that member is linked again at their next sign-in, when the provider vouches for their email address.`
    : `${what}, so ${count} sign-in links made through the old one were removed: those members are linked again at their next sign-in, when the provider vouches for their email address.`;
}

/**
 * Single sign-on (P12, P13, X2): each portal's identity providers, their settings and sealed
 * secrets (SAML, JWT, OpenID Connect); the verifiers built from them; sign-ins in flight and
 * replays refused through the database, so any process may finish a sign-in another started
 * and a restart reopens nothing; and the one rule that turns a verified identity into a
 * member's session.
 */
export class SsoService {
  private readonly box: SecretBox;
  private readonly checker: ProviderSettingsChecker;
  private readonly signIns: SsoSignIn;
  private readonly runtime = new Map<number, { updatedAt: number; value: SamlServiceProvider | JwtVerifier | OidcRelyingParty }>();
  /** Admins' test sign-ins, finished without a session. */
  readonly tests: TestSignIns;

  constructor(
    private readonly deps: Deps,
    private readonly members: MemberAuthService,
    contacts: ContactsService,
    private readonly outbound: OutboundClient,
  ) {
    this.box = new SecretBox(deps.config.secretsKey);
    this.checker = new ProviderSettingsChecker(outbound);
    this.signIns = new SsoSignIn(deps, members, contacts);
    this.tests = new TestSignIns(deps);
  }

  // ---- providers (the admin API) ----

  list(portalId: number): Promise<ProviderRow[]> {
    return this.deps.db.selectFrom('sso_providers').selectAll().where('portal_id', '=', portalId).orderBy('id').execute();
  }

  async get(portalId: number, id: number, db: Conn = this.deps.db): Promise<ProviderRow> {
    const row = await db.selectFrom('sso_providers').selectAll().where('portal_id', '=', portalId).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw errors.notFound('identity provider');
    return row;
  }

  /** How many members sign in through each of a portal's providers (their sign-in links). */
  async linkedMembers(portalId: number): Promise<Map<number, number>> {
    const rows = await this.deps.db.selectFrom('member_identities as i').innerJoin('sso_providers as p', 'p.id', 'i.provider_id')
      .select(['i.provider_id', (eb) => eb.fn.countAll<number | string>().as('n')]).where('p.portal_id', '=', portalId).groupBy('i.provider_id').execute();
    return new Map(rows.map((r) => [r.provider_id, Number(r.n)]));
  }

  /** Tries an OpenID Connect issuer's discovery and keys, through the guarded client; nothing is saved. */
  discover(issuer: string, scopes: string): Promise<DiscoveryFound> {
    return checkDiscovery(this.outbound, issuer, scopes);
  }

  private secretsOf(row: Pick<ProviderRow, 'id' | 'secrets'>): Record<string, string> {
    if (row.secrets === null) return {};
    return readJson(this.box.open(row.secrets, `sso_provider:${row.id}`)) as Record<string, string>;
  }

  /** Which secrets are stored, by name (the values never leave the server). */
  secretNames(row: ProviderRow): string[] {
    try {
      return Object.keys(this.secretsOf(row)).sort();
    } catch {
      return [];
    }
  }

  private async write(tx: Tx, id: number, secrets: Record<string, string>): Promise<void> {
    const sealed = Object.keys(secrets).length === 0 ? null : this.box.seal(JSON.stringify(secrets), `sso_provider:${id}`);
    await tx.updateTable('sso_providers').set({ secrets: sealed }).where('id', '=', id).execute();
  }

  async create(portalId: number, input: ProviderInput & { kind: SsoKindT; name: string }): Promise<SavedProvider> {
    const { settings, warnings } = this.checker.settingsFor(input.kind, {}, input);
    const secrets = this.checker.secretsFor(input.kind, {}, input, settings);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const portal = await tx.selectFrom('portals').select('id').where('id', '=', portalId).executeTakeFirst();
      if (portal === undefined) throw errors.notFound('portal');
      const row = await tx.insertInto('sso_providers').values({
        portal_id: portalId, kind: input.kind, name: input.name, enabled: input.enabled === false ? 0 : 1, create_contacts: input.createContacts === true ? 1 : 0,
        settings: JSON.stringify(settings), secrets: null, created_at: now, updated_at: now,
      }).returningAll().executeTakeFirstOrThrow();
      await this.write(tx, row.id, secrets);
      return { row: await this.get(portalId, row.id, tx), warnings };
    });
  }

  async update(portalId: number, id: number, input: ProviderInput): Promise<SavedProvider> {
    return this.deps.db.transaction().execute(async (tx) => {
      const row = await this.get(portalId, id, tx);
      const { settings, warnings } = this.checker.settingsFor(row.kind, readJson(row.settings) as Record<string, unknown>, input);
      const secrets = this.checker.secretsFor(row.kind, this.secretsOf(row), input, settings);
      const removed = await this.forgetIfIssuerChanged(tx, row, settings);
      if (removed > 0) warnings.push(linksRemoved(row.kind, removed));
      // Strictly later, so every process rebuilds its verifier from the new settings.
      const now = Math.max(this.deps.clock.now(), row.updated_at + 1);
      await tx.updateTable('sso_providers').set({
        ...(input.name === undefined ? {} : { name: input.name }),
        ...(input.enabled === undefined ? {} : { enabled: input.enabled ? 1 : 0 }),
        ...(input.createContacts === undefined ? {} : { create_contacts: input.createContacts ? 1 : 0 }),
        settings: JSON.stringify(settings),
        updated_at: now,
      }).where('id', '=', id).execute();
      await this.write(tx, id, secrets);
      return { row: await this.get(portalId, id, tx), warnings };
    });
  }

  /**
   * A provider pointed at another issuer (OpenID Connect issuer, SAML entity id, JWT `iss`) trusts
   * someone else: its sign-in links, made through the old issuer, are removed (else subject X of
   * the new issuer would be the old issuer's X), and so are its sign-ins in flight. Returns how
   * many links went.
   */
  private async forgetIfIssuerChanged(tx: Tx, row: ProviderRow, settings: Record<string, unknown>): Promise<number> {
    const setting = ISSUER_SETTING[row.kind];
    if ((readJson(row.settings) as Record<string, unknown>)[setting] === settings[setting]) return 0;
    await tx.deleteFrom('sso_flows').where('provider_id', '=', row.id).execute();
    const removed = await tx.deleteFrom('member_identities').where('provider_id', '=', row.id).executeTakeFirst();
    return Number(removed.numDeletedRows);
  }

  async delete(portalId: number, id: number): Promise<void> {
    const r = await this.deps.db.deleteFrom('sso_providers').where('portal_id', '=', portalId).where('id', '=', id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw errors.notFound('identity provider');
    this.runtime.delete(id);
  }

  /** The addresses to give the identity provider, all on the portal's own host. */
  urls(portal: PortalRow, row: Pick<ProviderRow, 'id' | 'kind'>): Record<string, string> {
    const base = `/sso/${row.id}`;
    const start = portalUrl(this.deps, portal, `${base}/start`);
    if (row.kind === 'saml') {
      return { start, metadata: portalUrl(this.deps, portal, `${base}/saml/metadata`), entityId: portalUrl(this.deps, portal, `${base}/saml/metadata`), acs: portalUrl(this.deps, portal, `${base}/saml/acs`) };
    }
    if (row.kind === 'jwt') return { start, callback: portalUrl(this.deps, portal, `${base}/jwt`) };
    return { start, redirectUri: portalUrl(this.deps, portal, `${base}/oidc/callback`) };
  }

  /** The enabled providers of a portal whose sign-in methods include SSO, for its sign-in page. */
  async enabledFor(portal: PortalRow): Promise<{ id: number; name: string }[]> {
    return this.deps.db.selectFrom('sso_providers').select(['id', 'name']).where('portal_id', '=', portal.id).where('enabled', '=', 1).orderBy('id').execute();
  }

  /** An enabled provider of this portal, or 404 like any route that is not there. */
  async usable(portal: PortalRow, id: number): Promise<ProviderRow> {
    const row = await this.deps.db.selectFrom('sso_providers').selectAll().where('portal_id', '=', portal.id).where('id', '=', id).where('enabled', '=', 1).executeTakeFirst();
    if (row === undefined) throw errors.routeNotFound();
    return row;
  }

  // ---- verifiers, built once per provider version ----

  private cached<T extends SamlServiceProvider | JwtVerifier | OidcRelyingParty>(row: ProviderRow, build: () => T): T {
    const hit = this.runtime.get(row.id);
    if (hit !== undefined && hit.updatedAt === row.updated_at) return hit.value as T;
    const value = build();
    this.runtime.set(row.id, { updatedAt: row.updated_at, value });
    return value;
  }

  saml(portal: PortalRow, row: ProviderRow): SamlServiceProvider {
    return this.cached(row, () => {
      const urls = this.urls(portal, row);
      return new SamlServiceProvider(readJson(row.settings) as SamlSettingsT, { entityId: urls.entityId ?? '', acsUrl: urls.acs ?? '' }, this.samlRequests(row.id));
    });
  }

  jwt(row: ProviderRow): JwtVerifier {
    return this.cached(row, () => new JwtVerifier(readJson(row.settings) as JwtSettingsT, (this.secretsOf(row) as JwtSecretsT).sharedSecret ?? null, this.outbound.fetch));
  }

  oidc(portal: PortalRow, row: ProviderRow): OidcRelyingParty {
    return this.cached(row, () => new OidcRelyingParty(
      readJson(row.settings) as OidcSettingsT, (this.secretsOf(row) as OidcSecretsT).clientSecret ?? null,
      this.urls(portal, row).redirectUri ?? '', Math.round((this.deps.clock.now() - Date.now()) / 1000), this.outbound.fetch,
    ));
  }

  /** The provider's settings, as stored (checked against its kind's schema when written). */
  settings(row: ProviderRow): Record<string, unknown> {
    return readJson(row.settings) as Record<string, unknown>;
  }

  // ---- sign-ins in flight and replays ----

  /** node-saml's store of AuthnRequest ids, in the database: any process may receive the response. */
  private samlRequests(providerId: number): CacheProvider {
    const key = (id: string) => `saml:${sha256Hex(id)}`;
    const { db, clock } = this.deps;
    return {
      saveAsync: async (id, value) => {
        await db.insertInto('sso_flows').values({ key: key(id), provider_id: providerId, browser_hash: null, payload: value, expires_at: clock.now() + SAML_REQUEST_TTL_MS }).execute();
        return { value, createdAt: clock.now() };
      },
      getAsync: async (id) => {
        const row = await db.selectFrom('sso_flows').select('payload').where('key', '=', key(id)).where('provider_id', '=', providerId).where('expires_at', '>', clock.now()).executeTakeFirst();
        return row?.payload ?? null;
      },
      removeAsync: async (id) => {
        if (id === null) return null;
        const row = await db.deleteFrom('sso_flows').where('key', '=', key(id)).where('provider_id', '=', providerId).returning('payload').executeTakeFirst();
        return row?.payload ?? null;
      },
    };
  }

  /**
   * Keeps what a sign-in needs at its next step, under the hash of a random key, bound to a
   * browser by the hash of something only that browser holds (browserHash), or to none.
   */
  async saveFlow(providerId: number, key: string, payload: unknown, ttlMs: number, browserHash: string | null): Promise<void> {
    await this.deps.db.insertInto('sso_flows').values({
      key: `flow:${sha256Hex(key)}`, provider_id: providerId, browser_hash: browserHash,
      payload: JSON.stringify(payload), expires_at: this.deps.clock.now() + ttlMs,
    }).execute();
  }

  /** Takes (once) the flow under this key, with the browser it is bound to; undefined when unknown, used, expired or another provider's. */
  async takeFlow(providerId: number, key: string): Promise<{ payload: unknown; browserHash: string | null } | undefined> {
    const row = await this.deps.db.deleteFrom('sso_flows').where('key', '=', `flow:${sha256Hex(key)}`).where('provider_id', '=', providerId)
      .returning(['payload', 'browser_hash', 'expires_at']).executeTakeFirst();
    if (row === undefined || row.expires_at <= this.deps.clock.now()) return undefined;
    return { payload: readJson(row.payload), browserHash: row.browser_hash };
  }

  /**
   * Records a JWT `jti` or SAML assertion id of this issuer as used; false when it was used
   * before (a replay), by any provider: two portals' providers that trust the same issuer share
   * what it issued. Kept until the token or assertion expires, whatever becomes of the provider.
   */
  async firstUse(kind: 'jwt' | 'saml', issuer: string, id: string, validUntil: number): Promise<boolean> {
    const now = this.deps.clock.now();
    const expires = Number.isFinite(validUntil) ? Math.max(validUntil, now + 60_000) : now + 24 * 3600_000;
    try {
      await this.deps.db.insertInto('sso_replays').values({ key: sha256Hex(JSON.stringify([kind, issuer, id])), expires_at: expires }).execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** Forgets flows and used ids past their time. */
  async purgeExpired(): Promise<number> {
    const now = this.deps.clock.now();
    const a = await this.deps.db.deleteFrom('sso_flows').where('expires_at', '<=', now).executeTakeFirst();
    const b = await this.deps.db.deleteFrom('sso_replays').where('expires_at', '<=', now).executeTakeFirst();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }

  // ---- from a verified identity to a session ----

  /** The sign-in rule (sign-in.ts): a session for the member this identity is, or a refusal. */
  signIn(portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity, meta: SessionMeta, options: SignInOptions = { signedInAs: null }): Promise<SsoSession> {
    return this.signIns.signIn(portal, provider, identity, meta, options);
  }

  /** What the sign-in rule would do with a verified identity, with nothing written (an admin's test sign-in). */
  dryRun(portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity): ReturnType<SsoSignIn['dryRun']> {
    return this.signIns.dryRun(portal, provider, identity);
  }

  // ---- the portal's sign-in log (C11) ----

  /** A provider's answer that proved nothing (or not in this browser), entered with its code and why. */
  async recordRefusal(portal: PortalRow, provider: ProviderRow, refusal: SsoRefused, meta: SessionMeta): Promise<void> {
    await this.members.log.record({ ...ssoLogEntry(portal, provider, meta), outcome: 'refused', reason: `sso_${refusal.code}`, detail: refusal.message });
  }

  /** An identity the provider proved, kept out by the portal's rules, entered with its code and why. */
  async recordDenial(portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity, denial: SsoDenied, meta: SessionMeta): Promise<void> {
    await this.members.log.record({ ...ssoLogEntry(portal, provider, meta), email: identity.email, subject: identity.subject, outcome: 'denied', reason: `sso_${denial.code}`, detail: denial.reason });
  }
}

/** What every single sign-on entry of the sign-in log says of where it happened. */
export function ssoLogEntry(portal: PortalRow, provider: ProviderRow, meta: SessionMeta) {
  return { portalId: portal.id, method: 'sso' as const, provider: { id: provider.id, name: provider.name }, ip: meta.ip, userAgent: meta.userAgent ?? null };
}
