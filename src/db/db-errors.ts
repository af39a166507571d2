/** Recognises constraint violations on both dialects, so repositories can answer 409, not 500. */
interface DriverError {
  code?: unknown;
  constraint?: unknown;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as DriverError).code;
  return typeof code === 'string' ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * PostgreSQL cannot store a NUL character in text (22021) or JSON (22P05); SQLite can. The JSON
 * parser refuses NUL in bodies up front; this catches what arrives another way (a query string,
 * a form field), so the answer is a 400 on both databases, never a 500.
 */
export function isUnstorableText(error: unknown): boolean {
  const code = codeOf(error);
  return code === '22021' || code === '22P05';
}
