import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Migration,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';
import * as messagesMigration from './migrations/0001-messages.js';
import * as ticketsMigration from './migrations/0002-providers-and-tickets.js';
import * as webhooksMigration from './migrations/0003-webhooks.js';
import * as claimableIndexMigration from './migrations/0004-claimable-index.js';
import * as throughputSlotsMigration from './migrations/0005-throughput-slots.js';
import * as assignmentsMigration from './migrations/0006-assignments.js';
import * as usersAndSessionsMigration from './migrations/0007-users-and-sessions.js';
import * as leanOutboxWritesMigration from './migrations/0008-lean-outbox-writes.js';
import type { DatabaseSchema } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DialectName;
  /** Human-readable location for the start banner (credentials removed). */
  readonly description: string;
  /** The pg pool when on PostgreSQL (the throughput limiter shares it). */
  readonly pgPool: pg.Pool | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…`, or null for SQLite. */
  url: string | null;
  /** SQLite file (created with its folder), or ':memory:'. */
  sqliteFile: string;
  /** PostgreSQL schema to use (created if missing); tests use one per file. */
  pgSchema?: string;
  /**
   * PostgreSQL: the server cancels a statement that runs longer (a lock wait included), so a stuck query
   * fails (503) and frees its connection instead of holding it and its request. 0 or absent: no limit.
   */
  statementTimeoutMs?: number;
  pgPoolSize?: number;
  /** How long a query waits for a new connection before failing (503, not a hung request). */
  pgConnectTimeoutMs?: number;
  /** A pooled connection failed (the server went away); the pool drops it and reconnects on demand. */
  onConnectionError?: (error: Error) => void;
}

const INT8_OID = 20;
const defaultTypeParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => unknown;

function parseInt8AsNumber(oid: number, format?: 'text' | 'binary'): unknown {
  return oid === INT8_OID ? (value: string) => Number(value) : defaultTypeParser(oid, format);
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url === null ? openSqlite(options.sqliteFile) : openPostgres(options);
}

function openSqlite(file: string): Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL + NORMAL: a committed transaction survives a killed process (only power loss can drop the last ones).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DatabaseSchema>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return {
    db,
    dialect: 'sqlite',
    description: `SQLite ${file}`,
    pgPool: null,
    close: () => db.destroy(),
  };
}

const STATEMENT_CACHE_LIMIT = 500;

/**
 * Kysely prepares every query anew; better-sqlite3 statements can be reused, and preparing is a good part
 * of a small insert's cost. Statements are cached by SQL text (the oldest dropped past the limit). Safe
 * because Kysely runs each statement to completion synchronously (`all`/`run`; no open iterators).
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => {
      statements.clear();
      sqlite.close();
    },
    prepare: (text: string) => {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = sqlite.prepare(text);
        if (statements.size >= STATEMENT_CACHE_LIMIT) statements.delete(statements.keys().next().value ?? '');
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

function openPostgres(options: DatabaseOptions): Database {
  const url = options.url ?? '';
  const schema = options.pgSchema;
  const timeoutMs = Math.floor(options.statementTimeoutMs ?? 0);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.pgPoolSize ?? 10,
    // Epoch-millisecond bigints fit in a double; parse them as numbers for this pool only.
    types: { getTypeParser: parseInt8AsNumber as pg.CustomTypesConfig['getTypeParser'] },
    connectionTimeoutMillis: options.pgConnectTimeoutMs ?? 5000,
    ...(schema === undefined ? {} : { options: `-c search_path=${quoteIdent(schema)}` }),
  });
  // A client that loses its connection emits 'error': the pool listens only while the client is idle, so a
  // checked-out client (mid-query or mid-transaction) needs its own listener or the process crashes. The
  // query itself fails with the error (→ 503); the pool discards the client and the next query reconnects.
  // The pool re-emits an idle client's error, already reported by the client's own listener.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', (error) => options.onConnectionError?.(error));
    // A SET on each new connection, not a startup parameter: poolers such as PgBouncer refuse the
    // connection when the startup packet carries settings they do not know. pg runs a client's queries in
    // order, so this one runs before the first query the pool hands the client out for. Any role may set
    // it, so it fails only with the connection, and then that first query fails as well.
    if (timeoutMs > 0) client.query(`set statement_timeout = ${timeoutMs}`).catch(() => undefined);
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    description: `PostgreSQL ${redactUrl(url)}${schema === undefined ? '' : ` (schema ${schema})`}`,
    pgPool: pool,
    close: () => db.destroy(),
  };
}

const MIGRATIONS: Record<string, Migration> = {
  '0001-messages': messagesMigration,
  '0002-providers-and-tickets': ticketsMigration,
  '0003-webhooks': webhooksMigration,
  '0004-claimable-index': claimableIndexMigration,
  '0005-throughput-slots': throughputSlotsMigration,
  '0006-assignments': assignmentsMigration,
  '0007-users-and-sessions': usersAndSessionsMigration,
  '0008-lean-outbox-writes': leanOutboxWritesMigration,
};

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).sort().at(-1) ?? '';

/** Applies pending migrations; throws with the failing migration's name. */
export async function migrateToLatest(database: Database, pgSchema?: string): Promise<string[]> {
  if (database.dialect === 'postgres' && pgSchema !== undefined) {
    await sql`create schema if not exists ${sql.id(pgSchema)}`.execute(database.db);
  }
  // Name the schema even when it comes from search_path: Kysely otherwise finds its migration table in any
  // schema of the database (another tenant's, or a parallel test's) and skips creating ours.
  const migrationSchema =
    database.dialect === 'postgres' ? (pgSchema ?? (await currentSchema(database))) : undefined;
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    ...(migrationSchema === undefined ? {} : { migrationTableSchema: migrationSchema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}

async function currentSchema(database: Database): Promise<string> {
  const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db);
  const schema = result.rows[0]?.schema;
  if (schema === undefined) throw new Error('PostgreSQL has no current schema (check search_path)');
  return schema;
}

/** True when the database answers and every migration is applied (for /readyz). */
export async function isDatabaseReady(database: Database): Promise<boolean> {
  try {
    const result = await sql<{
      name: string;
    }>`select name from kysely_migration order by name desc limit 1`.execute(database.db);
    return result.rows[0]?.name === LATEST_MIGRATION;
  } catch {
    return false;
  }
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`invalid schema name ${name}`);
  return name;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
