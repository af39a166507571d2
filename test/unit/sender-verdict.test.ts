import type { DKIMResult, DMARCResult, SPFResult } from 'mailauth';
import { describe, expect, test } from 'vitest';
import { isHeld, verdictOf, type CheckResults } from '../../src/modules/mail/sender-verdict.js';

// C12: the verdict on an incoming mail's sender, from what mailauth found, and whether the mail
// is held. Shapes as mailauth returns them.

const spf = (result: string, domain: string): SPFResult => ({ domain, 'client-ip': '192.0.2.1', status: { result }, header: '', info: '' }) as SPFResult;
const signature = (result: string, signingDomain: string, aligned?: string | false): DKIMResult =>
  ({ signingDomain, status: { result, ...(aligned === undefined ? {} : { aligned }) }, info: '' }) as unknown as DKIMResult;
const dmarc = (result: string, policy?: string): DMARCResult => ({ domain: 'x', policy, p: policy, sp: policy, status: { result }, alignment: { spf: { result: false, strict: false }, dkim: { result: false, strict: false } }, info: '' }) as DMARCResult;
const results = (from: string[], parts: { spf?: CheckResults['spf']; dkim?: DKIMResult[]; dmarc?: DMARCResult | false }): CheckResults => ({
  spf: parts.spf ?? spf('none', 'example.com'),
  dkim: { headerFrom: from, envelopeFrom: false, results: parts.dkim ?? [] },
  dmarc: parts.dmarc === undefined ? dmarc('none') : parts.dmarc,
});

describe('the verdict on an incoming mail’s sender', () => {
  test('C12 DMARC decides where the domain publishes it: pass is verified, fail and temporary errors are held, whatever the policy', () => {
    const pass = verdictOf('a@bank.example', results(['a@bank.example'], { dkim: [signature('pass', 'bank.example', 'bank.example')], dmarc: dmarc('pass', 'reject') }));
    expect(pass).toEqual({ address: 'a@bank.example', fromDomain: 'bank.example', spf: 'none', dkim: 'pass', dkimDomain: 'bank.example', dmarc: 'pass', dmarcPolicy: 'reject', verified: true });
    expect(isHeld(pass)).toBe(false);
    for (const [found, policy] of [['fail', 'none'], ['fail', 'quarantine'], ['temperror', undefined], ['temperr', undefined]] as const) {
      const verdict = verdictOf('a@bank.example', results(['a@bank.example'], { dmarc: dmarc(found, policy) }));
      expect(verdict).toMatchObject({ verified: false, dmarc: found === 'temperr' ? 'temperror' : found, dmarcPolicy: policy ?? null });
      expect(isHeld(verdict)).toBe(true);
    }
  });

  test('C12 without DMARC, an SPF or DKIM pass for the From domain (or a domain under it) verifies; another domain’s does not; nothing is held', () => {
    const none = (parts: Parameters<typeof results>[1]) => verdictOf('a@shop.example', results(['a@shop.example'], { ...parts, dmarc: dmarc('none') }));
    expect(none({ spf: spf('pass', 'mail.shop.example') })).toMatchObject({ verified: true, spf: 'pass' });
    expect(none({ dkim: [signature('pass', 'shop.example')] })).toMatchObject({ verified: true, dkim: 'pass', dkimDomain: 'shop.example' });
    expect(none({ spf: spf('pass', 'mailer.example'), dkim: [signature('pass', 'mailer.example', false)] })).toMatchObject({ verified: false, dkimDomain: 'mailer.example' });
    expect(none({ spf: spf('softfail', 'shop.example') })).toMatchObject({ verified: false, spf: 'softfail' });
    expect(isHeld(none({}))).toBe(false);
  });

  test('C12 the signature reported is the one that says most: a pass for the From domain before another domain’s pass or a failure', () => {
    const verdict = verdictOf('a@shop.example', results(['a@shop.example'], { dkim: [signature('fail', 'shop.example'), signature('pass', 'esp.example', false), signature('pass', 'shop.example', 'shop.example')] }));
    expect(verdict).toMatchObject({ dkim: 'pass', dkimDomain: 'shop.example' });
  });

  test('C12 several From addresses, or a From that mailauth reads as another domain than the one the mail is filed under, cannot be verified: held', () => {
    const several = verdictOf('boss@victim.example', results(['boss@victim.example', 'x@evil.example'], { dmarc: false }));
    expect(several).toMatchObject({ dmarc: 'permerror', verified: false });
    expect(isHeld(several)).toBe(true);
    const misread = verdictOf('boss@victim.example', results(['x@evil.example'], { dkim: [signature('pass', 'evil.example', 'evil.example')], dmarc: dmarc('pass', 'reject') }));
    expect(misread).toMatchObject({ dmarc: 'permerror', verified: false });
    expect(isHeld(misread)).toBe(true);
  });

  test('C12 mail fetched from a mailbox records SPF as unchecked; international domains compare in their ASCII form', () => {
    const verdict = verdictOf('anna@bücher.example', results(['anna@xn--bcher-kva.example'], { spf: 'unchecked', dkim: [signature('pass', 'xn--bcher-kva.example', 'xn--bcher-kva.example')], dmarc: dmarc('pass', 'quarantine') }));
    expect(verdict).toMatchObject({ spf: 'unchecked', fromDomain: 'xn--bcher-kva.example', dmarc: 'pass', verified: true });
  });
});
