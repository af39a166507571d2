import type { Tx } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { emailKey } from '../../util/email.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import { mayUsePortal } from '../members/access-lists.js';
import type { MemberAuthService, SessionMeta } from '../members/member-auth.service.js';
import type { PortalRow } from '../portal/portals.service.js';
import { SsoDenied, SsoRefused } from './refusals.js';
import { ssoLogEntry } from './sso.service.js';

type ProviderRow = Row<'sso_providers'>;

/** Who the identity provider says signed in. */
export interface AssertedIdentity {
  subject: string;
  email: string | null;
  /** What the provider said of the address; null when it said nothing. */
  emailVerified: boolean | null;
  firstName: string | null;
  lastName: string | null;
}

/**
 * The identity is another member than the one signed in in this browser: nothing was changed,
 * and the browser's holder is asked first (a login CSRF never switches accounts silently).
 */
export class AnotherMemberSignedIn extends Error {
  constructor(
    /** The member the identity would sign in, as the portal names them. */
    readonly who: string,
  ) {
    super('another member is signed in in this browser');
    this.name = 'AnotherMemberSignedIn';
  }
}

/** Ends a dry run's transaction: everything it wrote is rolled back. */
class DryRunDone extends Error {}

export interface SignInOptions {
  /** The member signed in in this browser, or null: another member is not signed in silently. */
  signedInAs: number | null;
}

export interface SsoSession {
  token: string;
  expiresAt: number;
  memberId: number;
}

interface Resolved {
  memberId: number;
  contactId: number;
}

/** Only what an identity says about a person, whatever else its proof carried. */
export function assertedIdentity(identity: AssertedIdentity): AssertedIdentity {
  const { subject, email, emailVerified, firstName, lastName } = identity;
  return { subject, email, emailVerified, firstName, lastName };
}

/**
 * The one rule that turns a verified identity into a member's session (P12, P13, X2). The member
 * is found by (provider, subject), never by an email alone. A subject seen for the first time is
 * linked to the contact with its email address only when the provider vouches for the address
 * (email_verified, or the admin's setting for SAML and JWT providers) and the member has no
 * subject of this provider yet, or gets a new contact when the provider may create them. Then
 * P13 (the portal's SSO audience) and P10 (its access lists) decide. All in one transaction: a
 * refused sign-in, or one that waits for the browser's holder to confirm a switch, leaves no
 * contact, member or link behind.
 */
export class SsoSignIn {
  constructor(
    private readonly deps: Deps,
    private readonly members: MemberAuthService,
    private readonly contacts: ContactsService,
  ) {}

  async signIn(portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity, meta: SessionMeta, options: SignInOptions): Promise<SsoSession> {
    const attempt = () => this.deps.db.transaction().execute(async (tx) => {
      await this.checkVersion(tx, provider);
      const { memberId, contactId } = await this.resolve(tx, portal, provider, identity);
      await this.admit(tx, portal, memberId, contactId);
      if (options.signedInAs !== null && options.signedInAs !== memberId) throw new AnotherMemberSignedIn(await this.nameOf(tx, contactId));
      const session = await this.members.startSession(tx, portal.id, memberId, meta);
      await this.members.log.record({ ...ssoLogEntry(portal, provider, meta), email: identity.email, subject: identity.subject, memberId, outcome: 'signed_in', reason: 'signed_in' }, tx);
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

  /**
   * What the sign-in rule would do with this identity, for an admin's test sign-in: the same
   * steps as signIn (the provider's version, the link or the vouched address, the audience and
   * access lists) in a transaction that is always rolled back, so nothing is linked, made or
   * signed in. Who it would be, or the denial or refusal that would stop it.
   */
  async dryRun(portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity): Promise<{ who: string } | SsoDenied | SsoRefused> {
    let who: string | undefined;
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        await this.checkVersion(tx, provider);
        const { memberId, contactId } = await this.resolve(tx, portal, provider, identity);
        await this.admit(tx, portal, memberId, contactId);
        const contact = await tx.selectFrom('contacts').select('email').where('id', '=', contactId).executeTakeFirstOrThrow();
        who = `${await this.nameOf(tx, contactId)} <${contact.email}>`;
        throw new DryRunDone();
      });
    } catch (error) {
      if (error instanceof SsoDenied || error instanceof SsoRefused) return error;
      if (!(error instanceof DryRunDone)) throw error;
    }
    return { who: who ?? '' };
  }

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

  /** The member of a known subject, or of a new one linked (or created) by its vouched address. */
  private async resolve(tx: Tx, portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity): Promise<Resolved> {
    const now = this.deps.clock.now();
    const linked = await tx.selectFrom('member_identities as i').innerJoin('members as m', 'm.id', 'i.member_id')
      .select(['i.id', 'm.id as member_id', 'm.contact_id', 'm.portal_id', 'm.disabled_at'])
      .where('i.provider_id', '=', provider.id).where('i.subject', '=', identity.subject).executeTakeFirst();
    if (linked === undefined) return this.linkNew(tx, portal, provider, identity);
    if (linked.portal_id !== portal.id) throw new SsoDenied('other_portal', 'the identity is linked to another portal');
    if (linked.disabled_at !== null) throw new SsoDenied('member_disabled', 'the member is disabled');
    await tx.updateTable('member_identities').set({ last_sign_in_at: now, email: identity.email }).where('id', '=', linked.id).execute();
    return { memberId: linked.member_id, contactId: linked.contact_id };
  }

  private async linkNew(tx: Tx, portal: PortalRow, provider: ProviderRow, identity: AssertedIdentity): Promise<Resolved> {
    const now = this.deps.clock.now();
    const email = identity.email;
    if (email === null || !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new SsoDenied('no_email', 'no usable email address for a first sign-in');
    const settings = JSON.parse(provider.settings) as { emailsVerified?: boolean };
    const verified = identity.emailVerified ?? (provider.kind === 'oidc' ? false : settings.emailsVerified === true);
    if (!verified) throw new SsoDenied('email_not_verified', 'the provider does not vouch for the email address');
    const { contactId, linkedBy } = await this.contactFor(tx, provider, identity, email);
    const memberId = await this.memberFor(tx, portal, provider, contactId);
    await tx.insertInto('member_identities').values({
      provider_id: provider.id, subject: identity.subject, member_id: memberId, email, linked_by: linkedBy, created_at: now, last_sign_in_at: now,
    }).execute();
    return { memberId, contactId };
  }

  private async contactFor(tx: Tx, provider: ProviderRow, identity: AssertedIdentity, email: string): Promise<{ contactId: number; linkedBy: 'email' | 'created' }> {
    const contact = await tx.selectFrom('contacts').select('id').where('email_key', '=', emailKey(email)).executeTakeFirst();
    if (contact !== undefined) return { contactId: contact.id, linkedBy: 'email' };
    if (provider.create_contacts !== 1) throw new SsoDenied('no_contact', 'no contact has this address and the provider may not create contacts');
    const created = await this.contacts.createIn(tx, { email, firstName: identity.firstName ?? undefined, lastName: identity.lastName ?? undefined });
    return { contactId: created.id, linkedBy: 'created' };
  }

  /** The contact's member on this portal, made if new; one with a subject of this provider already is refused. */
  private async memberFor(tx: Tx, portal: PortalRow, provider: ProviderRow, contactId: number): Promise<number> {
    const now = this.deps.clock.now();
    const member = await tx.selectFrom('members').select(['id', 'disabled_at', 'verified_at']).where('portal_id', '=', portal.id).where('contact_id', '=', contactId).executeTakeFirst();
    if (member === undefined) {
      return (await tx.insertInto('members').values({ portal_id: portal.id, contact_id: contactId, password_hash: null, verified_at: now, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow()).id;
    }
    if (member.disabled_at !== null) throw new SsoDenied('member_disabled', 'the member is disabled');
    // One subject per provider and member: a second one with the member's address is someone
    // else the provider knows by that address now, not the member (unique in the database too,
    // which also settles two first sign-ins at once).
    const held = await tx.selectFrom('member_identities').select('id').where('provider_id', '=', provider.id).where('member_id', '=', member.id).executeTakeFirst();
    if (held !== undefined) throw new SsoDenied('subject_conflict', 'the member already signs in with another subject of this provider');
    // A registration never confirmed: its password was chosen by whoever registered, who need
    // not own the address the provider just vouched for. It is dropped.
    if (member.verified_at === null) await tx.updateTable('members').set({ verified_at: now, password_hash: null, updated_at: now }).where('id', '=', member.id).execute();
    return member.id;
  }

  /** P13 (the portal's SSO audience), then P10 (its access lists). */
  private async admit(tx: Tx, portal: PortalRow, memberId: number, contactId: number): Promise<void> {
    if (portal.sso_audience === 'lists') {
      const onList = await tx.selectFrom('portal_sso_lists as psl').innerJoin('list_members as lm', 'lm.list_id', 'psl.list_id')
        .select('lm.contact_id').where('psl.portal_id', '=', portal.id).where('lm.contact_id', '=', contactId).executeTakeFirst();
      if (onList === undefined) throw new SsoDenied('not_on_sso_lists', 'the contact is not on the portal’s single sign-on lists');
    }
    if (!(await mayUsePortal(tx, portal.id, memberId))) throw new SsoDenied('not_on_access_lists', 'the contact is not on the portal’s access lists');
  }

  /** How the portal names a member: their name, else their address. */
  private async nameOf(tx: Tx, contactId: number): Promise<string> {
    const contact = await tx.selectFrom('contacts').select(['email', 'first_name', 'last_name']).where('id', '=', contactId).executeTakeFirstOrThrow();
    const name = [contact.first_name, contact.last_name].filter((p) => p !== null && p !== '').join(' ');
    return name === '' ? contact.email : name;
  }
}
