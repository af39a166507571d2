import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors as joseErrors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { outboundRefusalIn, type OutboundFetch } from '../../security/outbound.js';
import type { JwtSettingsT } from './sso.schemas.js';
import { SsoRefused, type RefusalCode } from './refusals.js';

/** A refused JWT, with the reason for the log (never for the visitor). */
export class JwtRefused extends SsoRefused {
  constructor(reason: string, code: RefusalCode = 'proof_invalid') {
    super(code, reason);
    this.name = 'JwtRefused';
  }
}

/** The largest token accepted. */
export const MAX_JWT_CHARS = 8192;
/** Header parameters that bring their own key, or demand extensions: never honoured. */
const KEY_BEARING = ['jku', 'jwk', 'x5u', 'x5c', 'crit'] as const;
const CLOCK_TOLERANCE_S = 30;

export interface JwtIdentity {
  subject: string;
  email: string | null;
  emailVerified: boolean | null;
  firstName: string | null;
  lastName: string | null;
  /** The token's `iss` (the configured issuer): its `jti` is unique only with it. */
  issuer: string;
  jti: string;
  /** Until when the token could be presented: its id is remembered that long. */
  validUntil: number;
}

/** A failed verification as a refusal: the keys out of reach are not the token's fault. */
function refusal(error: unknown): JwtRefused {
  const blocked = outboundRefusalIn(error);
  if (blocked !== undefined) return new JwtRefused(`the JWKS was not fetched: ${blocked.message}`, 'address_not_allowed');
  if (!(error instanceof Error)) return new JwtRefused('invalid token');
  const unreachable = !(error instanceof joseErrors.JOSEError) || error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid;
  return new JwtRefused(`${error.name}: ${error.message}`, unreachable ? 'provider_unavailable' : 'proof_invalid');
}

function claim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === 'string' && value !== '' && value.length <= 1000 ? value : null;
}

/**
 * JWT single sign-on: the company's own site signs a short-lived token and sends the customer to
 * the portal with it. Verified with jose against the one algorithm the portal configured and its
 * one key (shared secret, public key, or JWKS): `alg: none`, another algorithm (HS256 with a
 * public key as secret), keys named in the token's header (jku, jwk, x5u, x5c), tokens without
 * `exp` or expired, `iat` older than the allowed age or in the future, and another issuer or
 * audience are refused.
 * A reused `jti` is refused by the caller (SsoService).
 */
export class JwtVerifier {
  private readonly key: Promise<Uint8Array | CryptoKey> | JWTVerifyGetKey;

  constructor(
    private readonly settings: JwtSettingsT,
    sharedSecret: string | null,
    /** The JWKS is fetched through it: security/outbound.ts. */
    fetch: OutboundFetch,
  ) {
    if (settings.algorithm === 'HS256') {
      if (sharedSecret === null) throw new JwtRefused('no shared secret is set');
      this.key = Promise.resolve(new TextEncoder().encode(sharedSecret));
    } else if (settings.publicKey !== null) {
      this.key = importSPKI(settings.publicKey, settings.algorithm);
    } else if (settings.jwksUrl !== null) {
      this.key = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, [customFetch]: fetch });
    } else {
      throw new JwtRefused('no public key or JWKS is set');
    }
  }

  async verify(token: string, now: number): Promise<JwtIdentity> {
    if (token.length > MAX_JWT_CHARS) throw new JwtRefused('token too large');
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new JwtRefused('not a JWS');
    }
    for (const name of KEY_BEARING) if (header[name] !== undefined) throw new JwtRefused(`header parameter ${name} is not accepted`);
    if (header.alg !== this.settings.algorithm) throw new JwtRefused(`algorithm ${String(header.alg)} is not the configured ${this.settings.algorithm}`);
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: [this.settings.algorithm],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        currentDate: new Date(now),
        maxTokenAge: this.settings.maxAgeSeconds,
        clockTolerance: CLOCK_TOLERANCE_S,
        // exp too: a token that never expires could be replayed wherever its jti is forgotten.
        requiredClaims: ['iat', 'exp', 'jti', 'sub'],
      };
      const key = this.key;
      payload = (typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, await key, options)).payload;
    } catch (error) {
      throw refusal(error);
    }
    const subject = claim(payload, 'sub');
    const jti = claim(payload, 'jti');
    if (subject === null || jti === null) throw new JwtRefused('sub and jti must be non-empty strings');
    const iat = payload.iat ?? 0;
    if (iat * 1000 > now + CLOCK_TOLERANCE_S * 1000) throw new JwtRefused('iat is in the future');
    const validUntil = Math.min((payload.exp ?? 0) * 1000, (iat + this.settings.maxAgeSeconds) * 1000) + CLOCK_TOLERANCE_S * 1000;
    const verified = payload.email_verified;
    const name = claim(payload, 'name');
    return {
      subject,
      email: claim(payload, 'email'),
      emailVerified: typeof verified === 'boolean' ? verified : null,
      firstName: claim(payload, 'given_name') ?? name,
      lastName: claim(payload, 'family_name'),
      issuer: this.settings.issuer,
      jti,
      validUntil,
    };
  }
}
