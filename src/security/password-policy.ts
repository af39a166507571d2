import { dictionary } from '@zxcvbn-ts/language-common';

/** OWASP ASVS 2.1: at least 8 characters (after spaces are folded), up to 256, any characters, no composition rules. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/**
 * Passwords found in breaches, as the zxcvbn-ts project ships them (about 49,000, of which
 * some 18,000 are long enough to pass the length rule); compared without case.
 */
let breached: ReadonlySet<string> | undefined;
function breachedPasswords(): ReadonlySet<string> {
  breached ??= new Set(dictionary['passwords-common'].filter((p) => p.length >= PASSWORD_MIN).map((p) => p.toLowerCase()));
  return breached;
}

export type PasswordProblem = 'too_short' | 'too_long' | 'common';

/** Why a new password cannot be used, or undefined when it can. */
export function passwordProblem(password: string): PasswordProblem | undefined {
  // Unicode normalised, runs of spaces counted once (ASVS 2.1.3), as a person would count them.
  const normalised = password.normalize('NFKC').replace(/\s+/g, ' ');
  if (codePoints(normalised) < PASSWORD_MIN) return 'too_short';
  if (codePoints(password) > PASSWORD_MAX) return 'too_long';
  if (breachedPasswords().has(normalised.toLowerCase())) return 'common';
  return undefined;
}

/** Characters as a person counts them, near enough: code points, so an emoji is not two. */
function codePoints(text: string): number {
  return text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length;
}
