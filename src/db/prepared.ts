import { createHash } from 'node:crypto';
import { CompiledQuery, type Compilable } from 'kysely';
import type { Conn } from './database.js';

/** A value a prepared query takes as a parameter. */
export type Argument = string | number | null;

/** Where each parameter of a compiled query comes from: an argument by name, or a value fixed by the query's shape. */
type Slot = { arg: string } | { value: unknown };

interface Compiled {
  sql: string;
  slots: Slot[];
  /** Run as a named statement on PostgreSQL. */
  named: boolean;
}

/**
 * The SQL texts of prepared queries, with the name each runs under as a PostgreSQL prepared
 * statement (database.ts): parsed and planned once per connection instead of on every request,
 * which on the portal's queries took longer than running them. Other queries stay unnamed.
 */
const statementNames = new Map<string, string>();
const MAX_NAMED = 5000;

/** Names a prepared query's text (again, if it was dropped to make room: the oldest go first). */
function nameStatement(text: string): void {
  if (statementNames.has(text)) return;
  if (statementNames.size >= MAX_NAMED) statementNames.delete(statementNames.keys().next().value as string);
  statementNames.set(text, `portico_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`);
}

/** The name of a prepared query's statement, or undefined for any other SQL. */
export function statementName(text: string): string | undefined {
  return statementNames.get(text);
}

const sentinel = (i: number) => `\u0000prepared-argument-${i}\u0000`;

function dialectOf(db: Conn): string {
  return db.getExecutor().adapter.constructor.name;
}

/**
 * Builds a query once with sentinel values in place of the arguments and records, for each
 * parameter of the compiled SQL, which argument it is. A parameter that is none of them is a
 * value of the query's shape (a filter rule's value, say): kept as it is, which is right only
 * because the caller's key names the shape.
 */
function compile(names: readonly string[], build: (args: Record<string, Argument>) => Compilable, allowFixed: boolean, named: boolean): Compiled {
  const args = Object.fromEntries(names.map((n, i) => [n, sentinel(i)]));
  const query = build(args).compile();
  const slots = query.parameters.map((p): Slot => {
    const index = names.findIndex((_, i) => p === sentinel(i));
    const name = names[index];
    if (name !== undefined) return { arg: name };
    if (!allowFixed) throw new Error('a prepared query has a parameter that is not one of its arguments');
    return { value: p };
  });
  return { sql: query.sql, slots, named };
}

async function run<Row>(db: Conn, compiled: Compiled, args: Readonly<Record<string, Argument>>): Promise<Row[]> {
  if (compiled.named) nameStatement(compiled.sql);
  const parameters = compiled.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
  const result = await db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, parameters));
  return result.rows;
}

/**
 * A query built with Kysely once per dialect, then run with new parameter values only. For the
 * few queries on every request's path (authentication, a contact's ticket list), building and
 * compiling the query each time costs more than running it.
 *
 * The builder is called once with sentinel values in place of the arguments; the compiled
 * parameters tell which argument goes where. Arguments must reach the query as parameters
 * (not sql.lit / sql.raw), and the query's shape must not depend on their values.
 */
export class PreparedQuery<Args extends object, Row> {
  private readonly compiled = new Map<string, Compiled>();

  constructor(private readonly build: (db: Conn, args: Args) => Compilable<Row>) {}

  async execute(db: Conn, args: Args): Promise<Row[]> {
    const names = (Object.keys(args) as (keyof Args & string)[]).sort();
    const key = `${dialectOf(db)}:${names.join(',')}`;
    let entry = this.compiled.get(key);
    if (entry === undefined) {
      entry = compile(names, (a) => this.build(db, a as unknown as Args), false, true);
      this.compiled.set(key, entry);
    }
    return run<Row>(db, entry, args as Readonly<Record<string, Argument>>);
  }

  async executeTakeFirst(db: Conn, args: Args): Promise<Row | undefined> {
    return (await this.execute(db, args))[0];
  }
}

/**
 * Queries whose shape depends on more than which arguments they get (a portal's filter rules,
 * a sort, how many words a search has): each shape compiled once, under a key the caller gives
 * that names everything the builder reads besides its arguments. Values of the shape (a filter
 * rule's value) stay in the compiled query; the arguments are its parameters. At most `max`
 * shapes are kept, the least recently used dropped first.
 */
export class PreparedShapes {
  private readonly compiled = new Map<string, Compiled>();

  constructor(private readonly max = 2000) {}

  /**
   * Runs the shape's query with `args`. `planOnce` says one plan suits every value of the
   * arguments, so PostgreSQL may keep one (a named statement); a search's candidates, whose best
   * plan depends on how common the words are, are planned for their values each time.
   */
  async execute<Row>(db: Conn, shape: string, args: Readonly<Record<string, Argument>>, build: (args: Record<string, Argument>) => Compilable<Row>, planOnce = true): Promise<Row[]> {
    const names = Object.keys(args).sort();
    const key = `${dialectOf(db)}\u0001${shape}\u0001${names.join(',')}`;
    let entry = this.compiled.get(key);
    if (entry === undefined) {
      entry = compile(names, build, true, planOnce);
      if (this.compiled.size >= this.max) this.compiled.delete(this.compiled.keys().next().value as string);
    } else {
      this.compiled.delete(key);
    }
    this.compiled.set(key, entry);
    return run<Row>(db, entry, args);
  }

  /** How many shapes are compiled now (tests, diagnostics). */
  get size(): number {
    return this.compiled.size;
  }
}
