/**
 * Tests of the SAML test tooling itself (test/helpers/saml-idp.ts and saml-forge.ts): the IdP's
 * responses are genuinely signed, and every forgery is what it claims to be. Signatures are checked
 * with xml-crypto, as an SP would, using only the configured certificate (never one from KeyInfo).
 */
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SignedXml } from 'xml-crypto';
import {
  commentInNameId,
  DSIG_NS,
  parseXml,
  processingInstructionInNameId,
  referenceToOtherElement,
  resignWithAttackerKey,
  stripSignatures,
  tamperNameId,
  toBase64,
  withDoctype,
  XSW_VARIANTS,
  XSW_WRAPS,
} from '../helpers/saml-forge.js';
import { readSamlFixture, SAML_ASSERTION_NS, startSamlIdp, type SamlIdp } from '../helpers/saml-idp.js';

const ACS_URL = 'http://127.0.0.1:9/saml/acs';
const SP_ENTITY_ID = 'urn:portico:test:sp';
const ATTACKER = { nameId: 'attacker@evil.test', email: 'attacker@evil.test', firstName: 'Eve', lastName: 'Mallory', emailVerified: true };
const VICTIM = 'victim@example.com';
const IDP_CERT = readSamlFixture('idp-cert.pem');
const ATTACKER_CERT = readSamlFixture('attacker-cert.pem');

/** The outcome of checking one ds:Signature of a document against one certificate. */
interface SignatureCheck {
  valid: boolean;
  error?: string;
  /** The canonical XML of what the signature covers (only when valid). */
  signedReferences: string[];
  signatureValue: string;
}

/** Checks every ds:Signature in `xml` with xml-crypto against `certificate` (KeyInfo is ignored). */
function checkSignatures(xml: string, certificate: string): SignatureCheck[] {
  const doc = parseXml(xml);
  return Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature')).map((signature) => {
    const verifier = new SignedXml({ publicCert: certificate });
    verifier.loadSignature(signature);
    const signatureValue = signature.getElementsByTagNameNS(DSIG_NS, 'SignatureValue')[0]?.textContent ?? '';
    try {
      const valid = verifier.checkSignature(xml);
      return { valid, signedReferences: valid ? verifier.getSignedReferences() : [], signatureValue };
    } catch (err) {
      return { valid: false, error: (err as Error).message, signedReferences: [], signatureValue };
    }
  });
}

/** The text of every saml:NameID in document order. */
function nameIds(xml: string): string[] {
  return Array.from(parseXml(xml).getElementsByTagNameNS(SAML_ASSERTION_NS, 'NameID')).map((n) => n.textContent);
}

/** The IDs of every saml:Assertion in document order. */
function assertionIds(xml: string): string[] {
  return Array.from(parseXml(xml).getElementsByTagNameNS(SAML_ASSERTION_NS, 'Assertion')).map((a) => a.getAttribute('ID') ?? '');
}

let idp: SamlIdp;
let assertionSigned: string;
let bothSigned: string;
let responseSigned: string;

beforeAll(async () => {
  idp = await startSamlIdp({ user: ATTACKER });
  const base = { acsUrl: ACS_URL, spEntityId: SP_ENTITY_ID, inResponseTo: '_request-1' };
  assertionSigned = await idp.response(base);
  bothSigned = await idp.response({ ...base, signResponse: true });
  responseSigned = await idp.response({ ...base, signResponse: true, signAssertion: false });
});

afterAll(async () => {
  await idp.close();
});

describe('the test IdP', () => {
  test('P12 its response is signed by samlify with the IdP key: the Assertion signature verifies with xml-crypto against idp-cert.pem', () => {
    const checks = checkSignatures(assertionSigned, IDP_CERT);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ valid: true });
    expect(checks[0]!.signedReferences[0]).toContain('<saml:Assertion');
    expect(checks[0]!.signedReferences[0]).toContain(ATTACKER.nameId);
    // The signature is enveloped in the Assertion, after its Issuer, RSA-SHA256 over exclusive c14n.
    const doc = parseXml(assertionSigned);
    const assertion = doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'Assertion')[0]!;
    const signature = doc.getElementsByTagNameNS(DSIG_NS, 'Signature')[0]!;
    expect(signature.parentNode).toBe(assertion);
    expect((signature.previousSibling as Element | null)?.localName).toBe('Issuer');
    expect(signature.getElementsByTagNameNS(DSIG_NS, 'Reference')[0]!.getAttribute('URI')).toBe(`#${assertion.getAttribute('ID') ?? ''}`);
    expect(assertionSigned).toContain('Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"');
    expect(assertionSigned).toContain('<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>');
    // Nothing verifies against another key.
    expect(checkSignatures(assertionSigned, ATTACKER_CERT)[0]!.valid).toBe(false);
  });

  test('P12 the response carries Issuer, Destination, Recipient, Audience, InResponseTo, the NameID and the attributes', () => {
    const doc = parseXml(assertionSigned);
    const response = doc.documentElement;
    const one = (localName: string) => doc.getElementsByTagNameNS(SAML_ASSERTION_NS, localName)[0]!;
    expect(response.getAttribute('Destination')).toBe(ACS_URL);
    expect(response.getAttribute('InResponseTo')).toBe('_request-1');
    expect(Array.from(doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'Issuer')).map((i) => i.textContent)).toEqual([idp.entityId, idp.entityId]);
    expect(one('NameID').textContent).toBe(ATTACKER.nameId);
    expect(one('NameID').getAttribute('Format')).toBe('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
    expect(one('SubjectConfirmationData').getAttribute('Recipient')).toBe(ACS_URL);
    expect(one('SubjectConfirmationData').getAttribute('InResponseTo')).toBe('_request-1');
    expect(one('Audience').textContent).toBe(SP_ENTITY_ID);
    const attributes = Object.fromEntries(
      Array.from(doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'Attribute')).map((a) => [a.getAttribute('Name'), a.textContent]),
    );
    expect(attributes).toEqual({ email: ATTACKER.email, firstName: 'Eve', lastName: 'Mallory', email_verified: 'true' });
  });

  test('P12 the validity window defaults to now-1min..now+5min and can be overridden (an expired assertion)', async () => {
    const now = new Date('2030-06-01T12:00:00.000Z');
    const xml = await idp.response({ acsUrl: ACS_URL, spEntityId: SP_ENTITY_ID, now, audience: 'urn:other', destination: 'http://127.0.0.1:9/other' });
    const doc = parseXml(xml);
    const conditions = doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'Conditions')[0]!;
    expect(conditions.getAttribute('NotBefore')).toBe('2030-06-01T11:59:00.000Z');
    expect(conditions.getAttribute('NotOnOrAfter')).toBe('2030-06-01T12:05:00.000Z');
    expect(doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'SubjectConfirmationData')[0]!.getAttribute('NotOnOrAfter')).toBe('2030-06-01T12:05:00.000Z');
    expect(doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'Audience')[0]!.textContent).toBe('urn:other');
    expect(doc.documentElement.getAttribute('Destination')).toBe('http://127.0.0.1:9/other');
    expect(doc.documentElement.hasAttribute('InResponseTo')).toBe(false);

    const expired = await idp.response({ acsUrl: ACS_URL, spEntityId: SP_ENTITY_ID, notOnOrAfter: new Date(Date.now() - 60_000) });
    const expiredConditions = parseXml(expired).getElementsByTagNameNS(SAML_ASSERTION_NS, 'Conditions')[0]!;
    expect(Date.parse(expiredConditions.getAttribute('NotOnOrAfter') ?? '')).toBeLessThan(Date.now());
    expect(checkSignatures(expired, IDP_CERT)[0]!.valid).toBe(true);
  });

  test('P12 with signResponse the Response is signed too; both signatures verify', () => {
    const checks = checkSignatures(bothSigned, IDP_CERT);
    expect(checks.map((c) => c.valid)).toEqual([true, true]);
    expect(checks[0]!.signedReferences[0]).toMatch(/^<samlp:Response/);
    expect(checkSignatures(responseSigned, IDP_CERT).map((c) => c.valid)).toEqual([true]);
    expect(parseXml(responseSigned).getElementsByTagNameNS(SAML_ASSERTION_NS, 'Assertion')[0]!.getElementsByTagNameNS(DSIG_NS, 'Signature')).toHaveLength(0);
  });

  test('P12 GET /metadata serves the metadata: entityID, Redirect and POST SSO endpoints, signing certificate', async () => {
    const res = await fetch(idp.entityId);
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toBe(idp.metadataXml);
    expect(xml).toContain(`entityID="${idp.entityId}"`);
    expect(xml).toContain(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${idp.ssoUrl}"`);
    expect(xml).toContain(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${idp.ssoUrl}"`);
    const certBody = IDP_CERT.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(xml).toContain(certBody);
  });

  test('P12 an SP built on @node-saml/node-saml signs in through GET /sso: auto-posting page, InResponseTo, RelayState, accepted profile', async () => {
    const sp = new SAML({
      callbackUrl: ACS_URL,
      entryPoint: idp.ssoUrl,
      issuer: SP_ENTITY_ID,
      audience: SP_ENTITY_ID,
      idpCert: idp.certificatePem,
      idpIssuer: idp.entityId,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      validateInResponseTo: ValidateInResponseTo.always,
    });
    const url = await sp.getAuthorizeUrlAsync('relay&state', undefined, {});
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`<form method="post" action="${ACS_URL}">`);
    expect(html).toContain('<input type="hidden" name="RelayState" value="relay&amp;state">');
    expect(html).toContain('<script>document.forms[0].submit();</script>');
    const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(html)![1]!;
    const request = idp.requests.at(-1)!;
    expect(request).toMatchObject({ issuer: SP_ENTITY_ID, acsUrl: ACS_URL, relayState: 'relay&state' });
    expect(parseXml(Buffer.from(samlResponse, 'base64').toString('utf8')).documentElement.getAttribute('InResponseTo')).toBe(request.id);

    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: samlResponse });
    expect(profile).toMatchObject({ nameID: ATTACKER.nameId, email: ATTACKER.email, firstName: 'Eve', email_verified: 'true' });
  });

  test('P12 POST /sso takes an HTTP-POST AuthnRequest; a request that is not an AuthnRequest gets 400', async () => {
    const sp = new SAML({ callbackUrl: ACS_URL, entryPoint: idp.ssoUrl, issuer: SP_ENTITY_ID, idpCert: idp.certificatePem, authnRequestBinding: 'HTTP-POST' });
    const form = await sp.getAuthorizeFormAsync('post-relay', undefined);
    const samlRequest = /name="SAMLRequest" value="([^"]+)"/.exec(form)![1]!;
    const res = await fetch(idp.ssoUrl, { method: 'POST', body: new URLSearchParams({ SAMLRequest: samlRequest, RelayState: 'post-relay' }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('name="RelayState" value="post-relay"');
    expect(idp.requests.at(-1)).toMatchObject({ issuer: SP_ENTITY_ID, acsUrl: ACS_URL, relayState: 'post-relay' });

    const notARequest = await fetch(idp.ssoUrl, { method: 'POST', body: new URLSearchParams({ SAMLRequest: toBase64('<x/>') }) });
    expect(notARequest.status).toBe(400);
  });
});

describe('the forgeries', () => {
  test('P12 resignWithAttackerKey: verifies against attacker-cert.pem, not against idp-cert.pem', () => {
    const forged = resignWithAttackerKey(bothSigned, VICTIM);
    expect(nameIds(forged)).toEqual([VICTIM]);
    expect(forged).toContain(ATTACKER_CERT.replace(/-----[A-Z ]+-----|\s/g, ''));
    expect(checkSignatures(forged, ATTACKER_CERT).map((c) => c.valid)).toEqual([true]);
    expect(checkSignatures(forged, IDP_CERT).map((c) => c.valid)).toEqual([false]);
    // The only way to accept it is to trust the certificate the message brings along.
    const trustingKeyInfo = new SignedXml({ publicCert: IDP_CERT, getCertFromKeyInfo: (keyInfo) => SignedXml.getCertFromKeyInfo(keyInfo) });
    trustingKeyInfo.loadSignature(parseXml(forged).getElementsByTagNameNS(DSIG_NS, 'Signature')[0]!);
    expect(trustingKeyInfo.checkSignature(forged)).toBe(true);
  });

  test('P12 commentInNameId keeps the signature valid (exc-c14n drops comments) while the first text node is the victim', async () => {
    const signed = await idp.response({ acsUrl: ACS_URL, spEntityId: SP_ENTITY_ID, user: { nameId: `${VICTIM}.evil.test`, email: `${VICTIM}.evil.test` } });
    const forged = commentInNameId(signed, VICTIM);
    expect(forged).toContain(`>${VICTIM}<!---->.evil.test</saml:NameID>`);
    expect(commentInNameId(signed, VICTIM.length)).toContain(`>${VICTIM}<!---->.evil.test<`);
    const [check] = checkSignatures(forged, IDP_CERT);
    expect(check!.valid).toBe(true);
    expect(check!.signedReferences[0]).toContain(`>${VICTIM}.evil.test<`);
    const nameId = parseXml(forged).getElementsByTagNameNS(SAML_ASSERTION_NS, 'NameID')[0]!;
    expect(nameId.firstChild?.nodeValue).toBe(VICTIM);
  });

  test('P12 processingInstructionInNameId keeps the signature valid while the NameID textContent is the victim', async () => {
    const signed = await idp.response({ acsUrl: ACS_URL, spEntityId: SP_ENTITY_ID, user: { nameId: `${VICTIM}.evil.test`, email: `${VICTIM}.evil.test` } });
    const forged = processingInstructionInNameId(signed, VICTIM);
    expect(forged).toContain(`>${VICTIM}<?portico .evil.test?></saml:NameID>`);
    const [check] = checkSignatures(forged, IDP_CERT);
    expect(check!.valid).toBe(true);
    expect(check!.signedReferences[0]).toContain(`>${VICTIM}.evil.test<`);
    expect(nameIds(forged)).toEqual([VICTIM]);
  });

  test('P12 tamperNameId breaks the signature; stripSignatures removes every signature', () => {
    const tampered = tamperNameId(assertionSigned, VICTIM);
    expect(nameIds(tampered)).toEqual([VICTIM]);
    expect(tampered).toMatch(new RegExp(`<saml:AttributeValue[^>]*>${VICTIM}</saml:AttributeValue>`));
    expect(checkSignatures(tampered, IDP_CERT).map((c) => c.valid)).toEqual([false]);

    const stripped = stripSignatures(bothSigned);
    expect(checkSignatures(stripped, IDP_CERT)).toEqual([]);
    expect(stripped).not.toContain('Signature');
    expect(nameIds(stripped)).toEqual([ATTACKER.nameId]);
  });

  test('P12 referenceToOtherElement: a valid IdP signature sits in the victim Assertion but covers another element', () => {
    const forged = referenceToOtherElement(assertionSigned, VICTIM);
    expect(nameIds(forged)).toEqual([VICTIM]);
    const doc = parseXml(forged);
    const signatures = Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature'));
    expect(signatures).toHaveLength(1);
    const assertion = doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'Assertion')[0]!;
    expect(signatures[0]!.parentNode).toBe(assertion);
    const uri = signatures[0]!.getElementsByTagNameNS(DSIG_NS, 'Reference')[0]!.getAttribute('URI');
    expect(uri).not.toBe(`#${assertion.getAttribute('ID') ?? ''}`);
    const [check] = checkSignatures(forged, IDP_CERT);
    expect(check!.valid).toBe(true);
    expect(check!.signedReferences).toHaveLength(1);
    expect(check!.signedReferences[0]).toMatch(/^<forge:Signed /);
    expect(check!.signedReferences[0]).not.toContain(VICTIM);
  });

  test('P12 withDoctype prepends a DOCTYPE whose internal entity is used in the NameID', () => {
    const forged = withDoctype(assertionSigned);
    expect(forged).toMatch(/^<!DOCTYPE samlp:Response \[\n {2}<!ENTITY portico-nameid "attacker@evil\.test">\n\]>\n<samlp:Response /);
    expect(forged).toContain('>&portico-nameid;</saml:NameID>');
    expect(withDoctype(assertionSigned, VICTIM)).toContain(`<!ENTITY portico-nameid "${VICTIM}">`);
    expect(() => parseXml(forged)).not.toThrow();
  });

  test('P12 toBase64 is the SAMLResponse form value', () => {
    expect(Buffer.from(toBase64(assertionSigned), 'base64').toString('utf8')).toBe(assertionSigned);
  });

  test('P12 XSW1-2 need a signed Response and XSW3-8 a signed Assertion', () => {
    expect(() => XSW_VARIANTS.xsw1(assertionSigned, VICTIM)).toThrow(/signResponse: true/);
    expect(() => XSW_VARIANTS.xsw2(assertionSigned, VICTIM)).toThrow(/signResponse: true/);
    for (const name of ['xsw3', 'xsw4', 'xsw5', 'xsw6', 'xsw7', 'xsw8'] as const) {
      expect(() => XSW_VARIANTS[name](responseSigned, VICTIM)).toThrow(/signAssertion: true/);
    }
  });

  describe.each(Object.entries(XSW_VARIANTS))('%s', (name, forge) => {
    const wraps = XSW_WRAPS[name as keyof typeof XSW_VARIANTS];
    /** The IdP's genuine signature value for the element this variant wraps. */
    const originalSignatureValue = (signed: string): string => {
      const doc = parseXml(signed);
      const element = wraps === 'Response' ? doc.documentElement : doc.getElementsByTagNameNS(SAML_ASSERTION_NS, 'Assertion')[0]!;
      const signature = Array.from(element.childNodes).find((n) => n.nodeType === 1 && (n as Element).localName === 'Signature') as Element;
      return signature.getElementsByTagNameNS(DSIG_NS, 'SignatureValue')[0]!.textContent;
    };

    test.each(wraps === 'Response' ? ['responseSigned', 'bothSigned'] : ['assertionSigned', 'bothSigned'])(
      `P12 ${name} from %s: the victim's evil copy has a new ID, and the original IdP signature still validates over the untouched original`,
      (input) => {
        const signed = { assertionSigned, bothSigned, responseSigned }[input]!;
        const forged = forge(signed, VICTIM);
        expect(() => parseXml(forged)).not.toThrow();
        expect(nameIds(forged)).toContain(VICTIM);
        expect(nameIds(forged)).toContain(ATTACKER.nameId);
        const ids = assertionIds(forged);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.some((id) => id.startsWith('_evil_assertion_'))).toBe(true);
        if (wraps === 'Response') expect(parseXml(forged).documentElement.getAttribute('ID')).toMatch(/^_evil_response_/);

        const value = originalSignatureValue(signed);
        const original = checkSignatures(forged, IDP_CERT).find((c) => c.signatureValue === value);
        expect(original, 'the original signature is still in the document').toBeDefined();
        expect(original!.error).toBeUndefined();
        expect(original!.valid).toBe(true);
        expect(original!.signedReferences).toHaveLength(1);
        expect(original!.signedReferences[0]).toMatch(wraps === 'Response' ? /^<samlp:Response / : /^<saml:Assertion /);
        expect(original!.signedReferences[0]).toContain(`>${ATTACKER.nameId}</saml:NameID>`);
        expect(original!.signedReferences[0]).not.toContain(VICTIM);
      },
    );
  });

  test('P12 the XSW variants place the evil copy where a vulnerable SP looks for it', () => {
    const assertionChildren = (xml: string) =>
      Array.from(parseXml(xml).documentElement.childNodes)
        .filter((n): n is Element => n.nodeType === 1)
        .map((e) => e.localName);
    // XSW3: evil Assertion first, then the original.
    expect(assertionChildren(XSW_VARIANTS.xsw3(assertionSigned, VICTIM))).toEqual(['Issuer', 'Status', 'Assertion', 'Assertion']);
    // XSW4: the original is nested in the evil one.
    expect(nameIds(XSW_VARIANTS.xsw4(assertionSigned, VICTIM))).toEqual([VICTIM, ATTACKER.nameId]);
    // XSW5: evil in place, the original appended at the end.
    expect(nameIds(XSW_VARIANTS.xsw5(assertionSigned, VICTIM))).toEqual([VICTIM, ATTACKER.nameId]);
    // XSW6 and XSW8: the original hides inside the evil Assertion's Signature (XSW8 in a ds:Object).
    expect(XSW_VARIANTS.xsw6(assertionSigned, VICTIM)).toMatch(/<ds:Signature[^>]*>(?:(?!<\/ds:Signature>).)*<saml:Assertion/);
    expect(XSW_VARIANTS.xsw8(assertionSigned, VICTIM)).toMatch(/<ds:Object><saml:Assertion/);
    // XSW7: the evil Assertion hides in samlp:Extensions, first in document order.
    expect(assertionChildren(XSW_VARIANTS.xsw7(assertionSigned, VICTIM))).toEqual(['Issuer', 'Extensions', 'Status', 'Assertion']);
    expect(nameIds(XSW_VARIANTS.xsw7(assertionSigned, VICTIM))).toEqual([VICTIM, ATTACKER.nameId]);
    // XSW1 and XSW2: the evil Response is the root; the original sits inside (XSW1) or before (XSW2) its Signature.
    expect(XSW_VARIANTS.xsw1(responseSigned, VICTIM)).toMatch(/<ds:Signature[^>]*>(?:(?!<\/ds:Signature>).)*<samlp:Response/);
    expect(assertionChildren(XSW_VARIANTS.xsw2(responseSigned, VICTIM))).toEqual(['Issuer', 'Response', 'Signature', 'Status', 'Assertion']);
  });
});
