import { CompiledQuery, type Compilable } from 'kysely';
import type { Conn } from './database.js';

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
  private readonly compiled = new Map<string, { sql: string; order: (keyof Args)[] }>();

  constructor(private readonly build: (db: Conn, args: Args) => Compilable<Row>) {}

  private compile(db: Conn, names: (keyof Args & string)[]): { sql: string; order: (keyof Args)[] } {
    const dialect = db.getExecutor().adapter.constructor.name;
    const key = `${dialect}:${names.join(',')}`;
    let entry = this.compiled.get(key);
    if (entry === undefined) {
      const sentinel = (i: number) => `\u0000prepared-argument-${i}\u0000`;
      const args = Object.fromEntries(names.map((n, i) => [n, sentinel(i)])) as unknown as Args;
      const query = this.build(db, args).compile();
      const order = query.parameters.map((p) => {
        const index = names.findIndex((_, i) => p === sentinel(i));
        const name = names[index];
        if (name === undefined) throw new Error('a prepared query has a parameter that is not one of its arguments');
        return name;
      });
      entry = { sql: query.sql, order };
      this.compiled.set(key, entry);
    }
    return entry;
  }

  async execute(db: Conn, args: Args): Promise<Row[]> {
    const names = (Object.keys(args) as (keyof Args & string)[]).sort();
    const { sql, order } = this.compile(db, names);
    const result = await db.executeQuery<Row>(CompiledQuery.raw(sql, order.map((n) => args[n])));
    return result.rows;
  }

  async executeTakeFirst(db: Conn, args: Args): Promise<Row | undefined> {
    return (await this.execute(db, args))[0];
  }
}
