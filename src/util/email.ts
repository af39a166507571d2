/**
 * The key an email is unique by: trimmed and lower-cased. Both dialects compare this column, so
 * uniqueness does not depend on a database's collation or its idea of lower().
 */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
