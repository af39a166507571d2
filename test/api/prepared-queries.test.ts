import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conn } from '../../src/db/database.js';
import { PreparedQuery, PreparedShapes, statementName, type Argument } from '../../src/db/prepared.js';
import { createTestApp, dialects, type TestApp } from '../helpers/test-app.js';

interface Probe {
  id: number;
  label: string;
  size: number | string;
}

/** A table of the test's own, outside the app's schema (so queries on it go through sql``). */
const probes = (db: Conn, where: ReturnType<typeof sql<boolean>>) =>
  sql<Probe>`select id, label, size from prepared_probe where ${where} order by id`.execute(db);

describe.each(dialects)('X16 C10 queries compiled once on the request path (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    // One connection, so that the statement a query prepared is the one it meets again.
    t = await createTestApp(dialect, dialect === 'postgres' ? { DATABASE_POOL_SIZE: '1' } : {});
    const db = t.app.deps.db;
    await sql`create table prepared_probe (id integer primary key, label text not null, size integer not null)`.execute(db);
    await sql`insert into prepared_probe (id, label, size) values (1, 'small', 5), (2, 'large', 500), (3, 'large', 900)`.execute(db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('X16 a shape compiles once; its arguments change per run and the values of its shape stay in it', async () => {
    const db = t.app.deps.db;
    const shapes = new PreparedShapes(2);
    const run = (label: string, minimum: number) => shapes.execute<Probe>(db, `label ${label}`, { minimum }, (a: Record<string, Argument>) =>
      ({ compile: () => sql<Probe>`select id, label, size from prepared_probe where label = ${label} and size >= ${a.minimum} order by id`.compile(db) }));
    expect((await run('large', 0)).map((r) => r.id)).toEqual([2, 3]);
    expect((await run('large', 600)).map((r) => r.id)).toEqual([3]);
    expect(shapes.size).toBe(1);
    expect((await run('small', 0)).map((r) => r.id)).toEqual([1]);
    expect(shapes.size).toBe(2);
    // Past its limit the least recently used shape goes; what it answers does not change.
    expect((await run('missing', 0)).map((r) => r.id)).toEqual([]);
    expect(shapes.size).toBe(2);
    expect((await run('large', 900)).map((r) => r.id)).toEqual([3]);
    expect((await probes(db, sql<boolean>`1 = 1`)).rows).toHaveLength(3);
  });

  it('X16 a prepared query whose argument is missing from its query is refused when it is compiled', async () => {
    const db = t.app.deps.db;
    const wrong = new PreparedQuery((conn: Conn, _a: { label: string }) =>
      ({ compile: () => sql<Probe>`select id from prepared_probe where label = ${'fixed'}`.compile(conn) }));
    await expect(wrong.execute(db, { label: 'large' })).rejects.toThrow(/not one of its arguments/);
  });

  it.runIf(dialect === 'postgres')('X16 a named statement keeps answering after another process changes what it returns', async () => {
    const db = t.app.deps.db;
    const byLabel = new PreparedQuery((conn: Conn, a: { label: string }) =>
      ({ compile: () => sql<Probe>`select * from prepared_probe where label = ${a.label} order by id`.compile(conn) }));
    const first = await byLabel.execute(db, { label: 'small' });
    expect(first).toEqual([{ id: 1, label: 'small', size: 5 }]);
    const text = sql`select * from prepared_probe where label = ${'x'} order by id`.compile(db).sql;
    expect(statementName(text)).toMatch(/^portico_/);
    // Another process (a newer version, migrating) changes the column's type under the statement.
    const other = new pg.Client({ connectionString: t.config.database.dialect === 'postgres' ? t.config.database.url : '' });
    await other.connect();
    try {
      await other.query('alter table prepared_probe alter column size type text');
    } finally {
      await other.end();
    }
    expect(await byLabel.execute(db, { label: 'small' })).toEqual([{ id: 1, label: 'small', size: '5' }]);
    // The connection that held the old statement was replaced: named again, and still right.
    expect(await byLabel.execute(db, { label: 'large' })).toEqual([{ id: 2, label: 'large', size: '500' }, { id: 3, label: 'large', size: '900' }]);
  });
});
