/**
 * Why a single sign-on did not happen. Each outcome has a short code that never changes (for the
 * sign-in log and whoever reads it) and a sentence for people (the log line's `reason`); the
 * visitor sees neither, only that it did not work.
 */

/** The provider's proof was not accepted, or the sign-in was not this browser's to finish. */
export type RefusalCode =
  /** The token, response or callback failed a check (signature, issuer, audience, time, …). */
  | 'proof_invalid'
  /** Its id (a JWT `jti`, a SAML assertion id) was used before. */
  | 'replayed'
  /** Nobody asked for it in this browser, and the provider does not accept sign-ins it was not asked for. */
  | 'unsolicited'
  /** The sign-in was started in another browser. */
  | 'other_browser'
  /** An unknown, used or expired sign-in (state, pending confirmation). */
  | 'flow_unknown'
  /** The provider's address is on a private or internal network, which Portico does not contact. */
  | 'address_not_allowed'
  /** The provider could not be reached, or its discovery document or keys could not be used. */
  | 'provider_unavailable'
  /** The provider's settings changed while the sign-in was under way. */
  | 'provider_changed';

/** The proof was verified, but the portal's rules keep this identity out. */
export type DenialCode =
  | 'no_email'
  | 'email_not_verified'
  | 'no_contact'
  | 'member_disabled'
  | 'other_portal'
  | 'not_on_sso_lists'
  | 'not_on_access_lists'
  /** The member already signs in with another subject of this provider. */
  | 'subject_conflict';

/** A refused proof: the failure page, no session, and the code and reason in the log. */
export class SsoRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    reason: string,
  ) {
    super(reason);
    this.name = 'SsoRefused';
  }
}

/** A sign-in refused after the provider's proof was checked: the access denied page, and why in the log. */
export class SsoDenied extends Error {
  constructor(
    readonly code: DenialCode,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SsoDenied';
  }
}
