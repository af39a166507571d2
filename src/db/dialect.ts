import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from './database.js';

/**
 * Where SQLite and PostgreSQL differ, in one place. Custom ticket property values live in a
 * JSON text column; these read one value as SQL text, a number, or a 0/1 flag.
 */
export function jsonValue(dialect: Dialect, column: string, key: string, as: 'text' | 'number' | 'flag'): RawBuilder<unknown> {
  const col = sql.ref(column);
  if (dialect === 'sqlite') {
    // json_extract gives text for strings, numbers for numbers and 1/0 for booleans.
    return sql`json_extract(${col}, ${'$.' + key})`;
  }
  const text = sql`(${col}::jsonb ->> ${key})`;
  if (as === 'number') return sql`(${text})::numeric`;
  if (as === 'flag') return sql`(case ${text} when 'true' then 1 when 'false' then 0 end)`;
  return text;
}
