import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery, type KyselyConfig, type PostgresCursor, type PostgresPool, type PostgresPoolClient, type SqliteDatabase, type Transaction } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { DB } from './schema.js';
import { statementName } from './prepared.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Repository functions take either the database or an open transaction. */
export type Conn = Kysely<DB> | Transaction<DB>;

export interface Database {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** How many prepared statements to keep per SQLite connection. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every statement anew; preparing costs more than running a small indexed
 * query. The app issues a bounded set of distinct SQL texts, so keep them prepared (least
 * recently used dropped first). Kysely runs one query at a time on the connection, so a
 * statement is never in use twice at once.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (text: string) => {
      let statement = cache.get(text);
      if (statement === undefined) {
        statement = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
      } else {
        cache.delete(text);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

export interface OpenOptions {
  /** Called with every query the database ran, with its parameters (diagnostics, the benchmark). */
  onQuery?: (query: CompiledQuery) => void;
}

function logOption(options: OpenOptions): Pick<KyselyConfig, 'log'> {
  const onQuery = options.onQuery;
  if (onQuery === undefined) return {};
  return {
    log: (event) => {
      if (event.level === 'query') onQuery(event.query);
    },
  };
}

function openSqlite(file: string, options: OpenOptions): Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Reads straight from the OS page cache, without a system call per page; and a larger page
  // cache of our own. Both matter once tickets of one contact sit on pages all over the file.
  sqlite.pragma('mmap_size = 1073741824');
  sqlite.pragma('cache_size = -65536');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), ...logOption(options) });
  return {
    db,
    dialect: 'sqlite',
    close: async () => {
      await db.destroy();
    },
  };
}

const parseNumber = (value: string): number => Number(value);
// pg's own parser lookup is typed loosely; this narrows int8 and numeric to numbers.
function numericAwareParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID || oid === NUMERIC_OID) return parseNumber;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-enum-assignment -- pg's untyped built-in lookup
  return pg.types.getTypeParser(oid, format);
}

/**
 * The pool as Kysely sees it, running prepared queries (prepared.ts) as named statements: each
 * connection parses and plans one once and then only binds new values, where an unnamed query is
 * parsed and planned every time. Planning the portal's queries took longer than running them.
 *
 * A migration run by another process (a rolling upgrade) may change what a prepared statement
 * returns; PostgreSQL then refuses it on connections that prepared it before ("cached plan must
 * not change result type"). Such a connection runs the query again unnamed when it can (outside
 * a transaction, which the refusal has aborted) and is closed when given back, so the pool opens
 * a fresh one.
 */
function namedStatements(pool: pg.Pool): PostgresPool {
  const stale = new WeakSet<pg.PoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let inTransaction = false;
    return {
      query: ((textOrCursor: string | PostgresCursor<unknown>, parameters?: readonly unknown[]) => {
        if (typeof textOrCursor !== 'string') return client.query(textOrCursor as unknown as pg.Submittable);
        const text = textOrCursor;
        const values = parameters as unknown[];
        if (/^\s*(begin|start transaction)\b/i.test(text)) inTransaction = true;
        else if (/^\s*(commit|rollback)\s*$/i.test(text)) inTransaction = false;
        const name = statementName(text);
        if (name === undefined || stale.has(client)) return client.query(text, values);
        return client.query({ name, text, values }).catch((error: unknown) => {
          if ((error as { code?: unknown }).code !== '0A000') throw error;
          stale.add(client);
          if (inTransaction) throw error;
          return client.query(text, values);
        });
      }) as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => {
        client.release(destroy === true || stale.has(client));
      },
    };
  };
  return { connect: async () => wrap(await pool.connect()), end: () => pool.end() };
}

function openPostgres(url: string, poolSize: number, options: OpenOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Ids and times are bigint-sized integers; parse them as numbers (all stay below 2^53).
    types: { getTypeParser: numericAwareParser },
  });
  // A broken idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: namedStatements(pool) }), ...logOption(options) });
  return {
    db,
    dialect: 'postgres',
    close: async () => {
      await db.destroy();
    },
  };
}

export function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Database {
  return config.dialect === 'sqlite' ? openSqlite(config.file, options) : openPostgres(config.url, config.poolSize, options);
}

export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
