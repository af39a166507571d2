import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value that cannot be opened: another key, or changed, or bound to another record. */
export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/**
 * Seals stored secrets (SSO shared secrets, OpenID client secrets) with AES-256-GCM under a key
 * derived from configuration (SECRETS_KEY) by HKDF. A sealed value names the key it was sealed
 * with (the first bytes of the key's hash), so a changed key is a clear error rather than
 * garbage, and is bound to its record by the associated data: a sealed value copied to another
 * record does not open there.
 *
 * Format: `v1.<key id>.<iv>.<ciphertext+tag>`, base64url parts.
 */
export class SecretBox {
  private readonly key: Buffer;
  readonly keyId: string;

  constructor(material: string) {
    this.key = Buffer.from(hkdfSync('sha256', material, 'portico', 'sealed secrets v1', 32));
    this.keyId = createHash('sha256').update(this.key).digest('base64url').slice(0, 8);
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.keyId, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string, associatedData: string): string {
    const [version, keyId, iv, body, ...rest] = sealed.split('.');
    if (version !== VERSION || iv === undefined || body === undefined || rest.length > 0) throw new SealError('not a sealed value');
    if (keyId !== this.keyId) throw new SealError('sealed with another key (was SECRETS_KEY changed?)');
    const bytes = Buffer.from(body, 'base64url');
    if (bytes.length < TAG_BYTES) throw new SealError('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealError('the sealed value was changed or belongs to another record');
    }
  }
}
