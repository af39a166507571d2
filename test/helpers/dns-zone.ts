import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';

/** A DNS error as node:dns reports one: its `code` is what mail checks read. */
function dnsError(code: string, type: string, name: string): Error {
  return Object.assign(new Error(`query${type.charAt(0)}${type.slice(1).toLowerCase()} ${code} ${name}`), { code, hostname: name });
}

/** A TXT value as DNS carries it: strings of at most 255 characters, joined by the reader. */
function chunks(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out.length === 0 ? [''] : out;
}

/**
 * The DNS a test writes: TXT records (SPF, DKIM keys, DMARC policies) it adds, names it breaks,
 * and nothing else: every other name does not exist. Tests never ask the real DNS.
 */
export class TestDns {
  private readonly records = new Map<string, string[]>();
  private readonly broken = new Map<string, string>();
  /** Every question asked, as `TYPE name`. */
  readonly queries: string[] = [];

  txt(name: string, ...values: string[]): this {
    this.records.set(name.toLowerCase(), values);
    return this;
  }

  /** Every question about `name` or a name under it fails as a resolver reports it (SERVFAIL, a timeout). */
  fail(name: string, code = 'ESERVFAIL'): this {
    this.broken.set(name.toLowerCase(), code);
    return this;
  }

  /** The resolver the app is given: `resolve(name, type)` as node:dns answers it. */
  readonly resolve = (name: string, type: string): Promise<string[][]> => {
    const key = name.toLowerCase().replace(/\.$/, '');
    this.queries.push(`${type} ${key}`);
    for (const [broken, code] of this.broken) {
      if (key === broken || key.endsWith(`.${broken}`)) return Promise.reject(dnsError(code, type, name));
    }
    const values = type === 'TXT' ? this.records.get(key) : undefined;
    if (values === undefined) return Promise.reject(dnsError('ENOTFOUND', type, name));
    return Promise.resolve(values.map(chunks));
  };
}

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
  /** The TXT record that publishes the public key, at `<selector>._domainkey.<domain>`. */
  record: string;
}

/** A fresh RSA key for signing mail as `domain`. */
export function dkimKey(domain: string, selector = 'mail'): DkimKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    domain,
    selector,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  };
}

/** Publishes a key in the test's DNS. */
export function publishKey(dns: TestDns, key: DkimKey): void {
  dns.txt(`${key.selector}._domainkey.${key.domain}`, key.record);
}

/** The raw mail with a DKIM-Signature by `key` in front. */
export async function dkimSigned(raw: string, key: DkimKey): Promise<string> {
  // mailauth signs what `signatureData` lists (its typings also offer the keys at the top level, which it ignores).
  const signature = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey };
  const result = await dkimSign(raw, { ...signature, signatureData: [signature] });
  const [error] = result.errors;
  if (error !== undefined) throw error;
  if (!result.signatures.startsWith('DKIM-Signature:')) throw new Error('the mail was not signed');
  return `${result.signatures}${raw}`;
}
