import { createHash, X509Certificate } from 'node:crypto';
import { normalizeCertificate, readXmlSafely } from './saml.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

/** A signing certificate as an admin can recognise it. */
export interface CertificateSummary {
  pem: string;
  subject: string;
  issuer: string;
  validFrom: number;
  validTo: number;
  /** SHA-256 of the DER bytes, colon-separated hex, as identity providers show it. */
  fingerprint: string;
}

/** What an identity provider's metadata says, for an admin to see before saving. */
export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  certificates: CertificateSummary[];
}

/** The one name of a distinguished name an admin looks for (its CN), else the whole of it on one line. */
function commonName(dn: string): string {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(dn)?.[1];
  return cn ?? dn.replace(/\n/g, ', ');
}

/** A PEM certificate as an admin can recognise it; throws when it is not one. */
export function summariseCertificate(input: string): CertificateSummary {
  const pem = normalizeCertificate(input);
  const cert = new X509Certificate(pem);
  return {
    pem,
    subject: commonName(cert.subject),
    issuer: commonName(cert.issuer),
    validFrom: Date.parse(cert.validFrom),
    validTo: Date.parse(cert.validTo),
    fingerprint: createHash('sha256').update(cert.raw).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:'),
  };
}

/** Metadata that cannot be used, with the reason in words for a support admin. */
export class MetadataProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataProblem';
  }
}

/**
 * Reads an identity provider's SAML metadata for the admin's screen: its entity id, its sign-in
 * address (HTTP-Redirect preferred, as the service provider uses it) and its signing
 * certificates. The XML is refused before any parser sees it when it holds a document type
 * declaration or processing instructions (saml.ts); every problem is a MetadataProblem in plain
 * words. The save itself checks the same values again (provider-settings.ts).
 */
export function readIdpMetadata(xml: string): IdpMetadata {
  if (xml.trim() === '') throw new MetadataProblem('Paste the metadata, or choose its file.');
  const read = readXmlSafely(xml.replace(/<!--[\s\S]*?-->/g, ''));
  if (read === 'doctype') throw new MetadataProblem('This metadata declares a document type (a DOCTYPE line), which Portico refuses for safety. Ask your identity provider for its metadata without one.');
  if (read === 'instruction') throw new MetadataProblem('This metadata holds processing instructions, which Portico refuses for safety. Ask your identity provider for plain metadata.');
  if (read === 'malformed') throw new MetadataProblem('This is not XML metadata. Paste the whole file your identity provider gives you, from its first line to its last.');
  const entities = Array.from(read.getElementsByTagNameNS(MD, 'EntityDescriptor'));
  if (entities.length === 0) throw new MetadataProblem('This XML is not SAML metadata: it describes no entity. Paste the metadata file of your identity provider.');
  if (entities.length > 1) throw new MetadataProblem(`This metadata describes ${entities.length} entities. Paste the metadata of the one identity provider to use.`);
  const entity = entities[0] as Element;
  const idp = entity.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0];
  if (idp === undefined) throw new MetadataProblem('This metadata does not describe an identity provider (it may be a service provider’s, such as Portico’s own). Paste your identity provider’s metadata.');
  const entityId = (entity.getAttribute('entityID') ?? '').trim();
  if (entityId === '') throw new MetadataProblem('This metadata does not name the identity provider (it has no entity id).');
  if (entityId.length > 1000) throw new MetadataProblem('The identity provider’s entity id in this metadata is longer than 1,000 characters.');
  const services = Array.from(idp.getElementsByTagNameNS(MD, 'SingleSignOnService'));
  const service = services.find((s) => s.getAttribute('Binding') === REDIRECT) ?? services.find((s) => s.getAttribute('Binding') === POST);
  const ssoUrl = (service?.getAttribute('Location') ?? '').trim();
  if (ssoUrl === '') throw new MetadataProblem('This metadata gives no sign-in address Portico can send people to (by redirect or form post).');
  if (!isUsableSignInAddress(ssoUrl)) throw new MetadataProblem(`The sign-in address in this metadata (${ssoUrl.slice(0, 200)}) is not an https address.`);
  const certificates: CertificateSummary[] = [];
  for (const key of Array.from(idp.getElementsByTagNameNS(MD, 'KeyDescriptor'))) {
    const use = key.getAttribute('use');
    if (use !== null && use !== '' && use !== 'signing') continue;
    for (const cert of Array.from(key.getElementsByTagNameNS(DS, 'X509Certificate'))) {
      try {
        const summary = summariseCertificate(cert.textContent);
        if (!certificates.some((c) => c.fingerprint === summary.fingerprint)) certificates.push(summary);
      } catch {
        throw new MetadataProblem('A signing certificate in this metadata is damaged: it is not a certificate. Download the metadata again.');
      }
    }
  }
  if (certificates.length === 0) throw new MetadataProblem('This metadata holds no signing certificate, so Portico could not check what the identity provider signs.');
  if (certificates.length > 3) throw new MetadataProblem(`This metadata holds ${certificates.length} signing certificates; Portico trusts at most 3. Remove the ones your identity provider no longer uses.`);
  return { entityId, ssoUrl, certificates };
}

/** An https address, or plain http on this machine (development and tests), as the provider's settings take it. */
function isUsableSignInAddress(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (raw.length > 2000 || /[\s"<>]/.test(raw)) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}
