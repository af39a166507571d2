import type { CacheProvider } from '@node-saml/node-saml';
import type { Conn, Tx } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import type { OutboundClient } from '../../security/outbound.js';
import { SecretBox } from '../../security/sealed.js';
import { sha256Hex } from '../../security/secrets.js';
import { emailKey } from '../../util/email.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import { portalUrl } from '../members/account.service.js';
import { mayUsePortal } from '../members/access-lists.js';
import type { MemberAuthService, SessionMeta } from '../members/member-auth.service.js';
import type { PortalRow } from '../portal/portals.service.js';
import { JwtVerifier } from './jwt.js';
import { OidcRelyingParty } from './oidc.js';
import { SsoDenied, SsoRefused } from './refusals.js';
import { ProviderSettingsChecker, type ProviderInput } from './provider-settings.js';
import { SAML_REQUEST_TTL_MS, SamlServiceProvider } from './saml.js';
import type { JwtSecretsT, JwtSettingsT, OidcSecretsT, OidcSettingsT, SamlSettingsT, SsoKindT } from './sso.schemas.js';

export type ProviderRow = Row<'sso_providers'>;

/** A provider as saved, with what the admin should know about the change (plain sentences). */
export interface SavedProvider {
  row: ProviderRow;
  warnings: string[];
}

/** Who the identity provider says signed in. */
export interface AssertedIdentity {
  subject: string;
  email: string | null;
  /** What the provider said of the address; null when it said nothing. */
  emailVerified: boolean | null;
  firstName: string | null;
  lastName: string | null;
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
  private readonly runtime = new Map<number, { updatedAt: number; value: SamlServiceProvider | JwtVerifier | OidcRelyingParty }>();

  constructor(
    private readonly deps: Deps,
    private readonly members: MemberAuthService,
    private readonly contacts: ContactsService,
    private readonly outbound: OutboundClient,
  ) {
    this.box = new SecretBox(deps.config.secretsKey);
    this.checker = new ProviderSettingsChecker(outbound);
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

  /** Keeps what a sign-in needs at its end, under the hash of a random key. */
  async saveFlow(providerId: number, key: string, payload: unknown, ttlMs: number, browserProof: string | null): Promise<void> {
    await this.deps.db.insertInto('sso_flows').values({
      key: `flow:${sha256Hex(key)}`, provider_id: providerId, browser_hash: browserProof === null ? null : sha256Hex(browserProof),
      payload: JSON.stringify(payload), expires_at: this.deps.clock.now() + ttlMs,
    }).execute();
  }

  /**
   * Takes (once) the flow under this key: undefined when unknown, used, expired, of another
   * provider, or started in another browser (its proof cookie differs).
   */
  async takeFlow(providerId: number, key: string, browserProof: string | null | undefined): Promise<unknown> {
    const row = await this.deps.db.deleteFrom('sso_flows').where('key', '=', `flow:${sha256Hex(key)}`).where('provider_id', '=', providerId)
      .returning(['payload', 'browser_hash', 'expires_at']).executeTakeFirst();
    if (row === undefined || row.expires_at <= this.deps.clock.now()) return undefined;
    if (row.browser_hash !== null && (browserProof === null || browserProof === undefined || sha256Hex(browserProof) !== row.browser_hash)) return undefined;
    return readJson(row.payload);
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

  /**
   * The provider is still as it was when the proof was verified: a sign-in verified under the
   * old issuer must not make a link after the change removed the old ones. On PostgreSQL the row
   * is share-locked, so a change waits for this sign-in (and then removes its link); SQLite runs
   * one write transaction at a time.
   */
  private async checkVersion(tx: Tx, provider: ProviderRow): Promise<void> {
    const query = tx.selectFrom('sso_providers').select(['updated_at', 'enabled']).where('id', '=', provider.id);
    const current = await (this.deps.dialect === 'postgres' ? query.forShare() : query).executeTakeFirst();
    if (current?.updated_at !== provider.updated_at || current.enabled !== 1) {
      throw new SsoRefused('provider_changed', 'the provider’s settings changed while the sign-in was under way');
    }
  }

  /**
   * The member this provider's subject is, found by (provider, subject) and never by an email
   * alone. A subject seen for the first time is linked to the contact with its email address
   * only when the provider vouches for the address (email_verified, or the admin's setting for
   * SAML and JWT providers), or gets a new contact when the provider may create them. Then P13
   * (the portal's SSO audience) and P10 (its access lists) decide. All in one transaction: a
   * refused sign-in leaves no contact, member or link behind.
   */
  async signIn(portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity, meta: SessionMeta): Promise<{ token: string; expiresAt: number; memberId: number }> {
    const settings = readJson(provider.settings) as { emailsVerified?: boolean };
    const verified = identity.emailVerified ?? (provider.kind === 'oidc' ? false : settings.emailsVerified === true);
    const attempt = () => this.deps.db.transaction().execute(async (tx) => {
      await this.checkVersion(tx, provider);
      const now = this.deps.clock.now();
      const linked = await tx.selectFrom('member_identities as i').innerJoin('members as m', 'm.id', 'i.member_id')
        .select(['i.id', 'm.id as member_id', 'm.contact_id', 'm.portal_id', 'm.disabled_at'])
        .where('i.provider_id', '=', provider.id).where('i.subject', '=', identity.subject).executeTakeFirst();
      let memberId: number;
      let contactId: number;
      if (linked !== undefined) {
        if (linked.portal_id !== portal.id) throw new SsoDenied('other_portal', 'the identity is linked to another portal');
        if (linked.disabled_at !== null) throw new SsoDenied('member_disabled', 'the member is disabled');
        memberId = linked.member_id;
        contactId = linked.contact_id;
        await tx.updateTable('member_identities').set({ last_sign_in_at: now, email: identity.email }).where('id', '=', linked.id).execute();
      } else {
        if (identity.email === null || !/^[^\s@]+@[^\s@]+$/.test(identity.email) || identity.email.length > 254) throw new SsoDenied('no_email', 'no usable email address for a first sign-in');
        if (!verified) throw new SsoDenied('email_not_verified', 'the provider does not vouch for the email address');
        const contact = await tx.selectFrom('contacts').select('id').where('email_key', '=', emailKey(identity.email)).executeTakeFirst();
        let linkedBy: 'email' | 'created' = 'email';
        if (contact !== undefined) {
          contactId = contact.id;
        } else if (provider.create_contacts === 1) {
          contactId = (await this.contacts.createIn(tx, { email: identity.email, firstName: identity.firstName ?? undefined, lastName: identity.lastName ?? undefined })).id;
          linkedBy = 'created';
        } else {
          throw new SsoDenied('no_contact', 'no contact has this address and the provider may not create contacts');
        }
        const member = await tx.selectFrom('members').select(['id', 'disabled_at', 'verified_at']).where('portal_id', '=', portal.id).where('contact_id', '=', contactId).executeTakeFirst();
        if (member?.disabled_at !== null && member?.disabled_at !== undefined) throw new SsoDenied('member_disabled', 'the member is disabled');
        if (member === undefined) {
          memberId = (await tx.insertInto('members').values({ portal_id: portal.id, contact_id: contactId, password_hash: null, verified_at: now, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow()).id;
        } else {
          memberId = member.id;
          // One subject per provider and member: a second one with the member's address is
          // someone else the provider knows by that address now, not the member (unique in the
          // database too, which also settles two first sign-ins at once).
          const held = await tx.selectFrom('member_identities').select('id').where('provider_id', '=', provider.id).where('member_id', '=', memberId).executeTakeFirst();
          if (held !== undefined) throw new SsoDenied('subject_conflict', 'the member already signs in with another subject of this provider');
          // A registration never confirmed: its password was chosen by whoever registered, who
          // need not own the address the provider just vouched for. It is dropped.
          if (member.verified_at === null) await tx.updateTable('members').set({ verified_at: now, password_hash: null, updated_at: now }).where('id', '=', member.id).execute();
        }
        await tx.insertInto('member_identities').values({
          provider_id: provider.id, subject: identity.subject, member_id: memberId, email: identity.email, linked_by: linkedBy, created_at: now, last_sign_in_at: now,
        }).execute();
      }
      if (portal.sso_audience === 'lists') {
        const onList = await tx.selectFrom('portal_sso_lists as psl').innerJoin('list_members as lm', 'lm.list_id', 'psl.list_id')
          .select('lm.contact_id').where('psl.portal_id', '=', portal.id).where('lm.contact_id', '=', contactId).executeTakeFirst();
        if (onList === undefined) throw new SsoDenied('not_on_sso_lists', 'the contact is not on the portal’s single sign-on lists');
      }
      if (!(await mayUsePortal(tx, portal.id, memberId))) throw new SsoDenied('not_on_access_lists', 'the contact is not on the portal’s access lists');
      const session = await this.members.startSession(tx, portal.id, memberId, meta);
      return { ...session, memberId };
    });
    try {
      return await attempt();
    } catch (error) {
      // The same new subject signing in twice at once: the second finds the first one's link.
      // Two new subjects for one member at once: the second is refused as a conflict.
      if (isUniqueViolation(error)) return attempt();
      throw error;
    }
  }
}
