import { describe, expect, test } from 'vitest';
import { REASON_TEXT, SIGN_IN_REASONS } from '../../src/modules/members/sign-in-log.js';
import type { DenialCode, RefusalCode } from '../../src/modules/sso/refusals.js';
import { reasonText } from '../../src/modules/sso/test-sign-ins.js';

// C11 The sign-in log's screen shows each entry's reason as the API words it: every stable code
// has one sentence for a support admin, and every single sign-on refusal and denial has its code.

const SSO_CODES: (RefusalCode | DenialCode)[] = [
  'proof_invalid', 'replayed', 'unsolicited', 'other_browser', 'flow_unknown', 'address_not_allowed', 'provider_unavailable', 'provider_changed',
  'no_email', 'email_not_verified', 'no_contact', 'member_disabled', 'other_portal', 'not_on_sso_lists', 'not_on_access_lists', 'subject_conflict',
];

describe('the sign-in log’s reasons in words', () => {
  test('C11 every reason code has one sentence in plain words, never a code', () => {
    for (const code of SIGN_IN_REASONS) {
      const text = REASON_TEXT[code];
      expect(text, code).toMatch(/^[A-Z][^_{}<>]*\.$/);
      if (code.includes('_')) expect(text, code).not.toContain(code);
    }
    expect(new Set(SIGN_IN_REASONS.map((c) => REASON_TEXT[c])).size).toBeGreaterThan(SIGN_IN_REASONS.length - 2);
  });

  test('C11 P12 every single sign-on refusal and denial has its reason, which a test sign-in shows too', () => {
    for (const code of SSO_CODES) {
      expect(SIGN_IN_REASONS, code).toContain(`sso_${code}`);
      expect(reasonText(code)).toBe(REASON_TEXT[`sso_${code}`]);
    }
  });
});
