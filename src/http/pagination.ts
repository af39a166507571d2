import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { readable } from './field-messages.js';
import { errors } from '../errors.js';

/**
 * Keyset (cursor) pagination. A list is ordered by one sort column plus an id tie-breaker; the
 * cursor carries the last row's pair and the sort it belongs to, so a cursor from another sort
 * is refused instead of silently skipping rows. Sort columns are never null.
 */
export interface SortSpec {
  /** The public name of the sort, e.g. "-lastActivityAt". */
  name: string;
  column: string;
  idColumn: string;
  direction: 'asc' | 'desc';
  /** The sort column holds text; otherwise it holds integers (ids, times). */
  text?: boolean;
}

export type SortValue = number | string;
export interface Cursor {
  value: SortValue;
  id: number;
}

export function encodeCursor(spec: SortSpec, cursor: Cursor): string {
  return Buffer.from(JSON.stringify([spec.name, cursor.value, cursor.id])).toString('base64url');
}

export function decodeCursor(spec: SortSpec, raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw errors.badCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw errors.badCursor();
  const [name, value, id] = parsed as unknown[];
  if (name !== spec.name) throw errors.badCursor();
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw errors.badCursor();
  // The value must have the sort column's type: a string compared with an integer column is a
  // database error on PostgreSQL (a 500), and a silently wrong page on SQLite.
  if (spec.text === true ? typeof value !== 'string' : typeof value !== 'number' || !Number.isSafeInteger(value)) throw errors.badCursor();
  return { value: value as SortValue, id };
}

/** The condition "after the cursor" for the spec's order. */
export function afterCursor(spec: SortSpec, cursor: Cursor): Expression<SqlBool> {
  const col = sql.ref(spec.column);
  const idCol = sql.ref(spec.idColumn);
  const op = sql.raw(spec.direction === 'desc' ? '<' : '>');
  return sql<SqlBool>`(${col} ${op} ${cursor.value} or (${col} = ${cursor.value} and ${idCol} ${op} ${cursor.id}))`;
}

export function orderFor(spec: SortSpec): RawBuilder<unknown>[] {
  const dir = sql.raw(spec.direction);
  return [sql`${sql.ref(spec.column)} ${dir}`, sql`${sql.ref(spec.idColumn)} ${dir}`];
}

/**
 * Merges lists that are each already in the spec's order (sort value, then id, both in the
 * spec's direction) into one in that order, each id once, the first `take` of it. Two keyset
 * queries read after the same cursor, each fetching `take` rows, merge into the page that one
 * query over both sources would have given: a row among the first `take` of the union is among
 * the first `take` of its own list. Integer sort values only (a text column's order is the
 * database's collation, not JavaScript's).
 */
export function mergeKeyset<T>(lists: T[][], spec: SortSpec, keyOf: (row: T) => { value: number; id: number }, take: number): T[] {
  const sign = spec.direction === 'desc' ? -1 : 1;
  // The lists are short (a page and one each): sorting them together is simplest.
  const rows = lists.flat().sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    return sign * (x.value - y.value || x.id - y.id);
  });
  const seen = new Set<number>();
  const out: T[] = [];
  for (const row of rows) {
    if (out.length >= take) break;
    const { id } = keyOf(row);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(row);
  }
  return out;
}

/** Cuts the extra row a query fetched (limit + 1) and derives the next cursor from the last kept row. */
export function toPage<T>(
  rows: T[],
  limit: number,
  spec: SortSpec,
  keyOf: (row: T) => Cursor,
): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { rows: kept, nextCursor: last === undefined ? null : encodeCursor(spec, keyOf(last)) };
}

/**
 * Parses a `sort` query value ("createdAt" or "-createdAt") against the sorts a list offers.
 * `textSorts` names the sorts whose column holds text; the others hold integers.
 */
export function pickSort(
  raw: string | undefined,
  fallback: string,
  columns: Record<string, string>,
  idColumn: string,
  textSorts: readonly string[] = [],
): SortSpec {
  const name = raw ?? fallback;
  const desc = name.startsWith('-');
  const key = desc ? name.slice(1) : name;
  const column = columns[key];
  if (column === undefined) {
    const names = Object.keys(columns).map(readable);
    throw errors.validation([{ path: '/querystring/sort', label: 'Sort', message: `Sort by ${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names.at(-1) ?? ''}, each written as the API documents it; a - in front reverses the order.` }]);
  }
  return { name, column, idColumn, direction: desc ? 'desc' : 'asc', text: textSorts.includes(key) };
}
