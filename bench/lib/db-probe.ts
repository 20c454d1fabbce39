import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

export const PG_URL = loopbackOnly(
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);

/** The bench only ever talks to this machine. */
function loopbackOnly(url: string): string {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    throw new Error(`BENCH_DATABASE_URL must point at this machine (127.0.0.1), not ${host}`);
  }
  return url;
}

/** A read-mostly view of a server's outbox from the orchestrator process (its own connection). */
export interface DbProbe {
  countByStatus(): Promise<Record<string, number>>;
  countStatus(status: string): Promise<number>;
  /** How many of `ids` exist in the messages table. */
  countExisting(ids: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

/** Opens the server's SQLite file like a restarted server would (WAL recovery included). */
export function sqliteProbe(file: string): DbProbe {
  const db = new SqliteDatabase(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const byStatus = db.prepare<[], { status: string; n: number }>(
    'select status, count(*) as n from messages group by status',
  );
  const oneStatus = db.prepare<[string], { n: number }>(
    'select count(*) as n from messages where status = ?',
  );
  return {
    countByStatus: () => Promise.resolve(Object.fromEntries(byStatus.all().map((r) => [r.status, r.n]))),
    countStatus: (status) => Promise.resolve(oneStatus.get(status)?.n ?? 0),
    countExisting: (ids) => {
      let found = 0;
      for (let start = 0; start < ids.length; start += 500) {
        const chunk = ids.slice(start, start + 500);
        const row = db
          .prepare<
            string[],
            { n: number }
          >(`select count(*) as n from messages where id in (${chunk.map(() => '?').join(',')})`)
          .get(...chunk);
        found += row?.n ?? 0;
      }
      return Promise.resolve(found);
    },
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

export function pgProbe(schema: string): DbProbe {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 1, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  return {
    countByStatus: async () => {
      const result = await pool.query<{ status: string; n: string }>(
        'select status, count(*) as n from messages group by status',
      );
      return Object.fromEntries(result.rows.map((r) => [r.status, Number(r.n)]));
    },
    countStatus: async (status) => {
      const result = await pool.query<{ n: string }>('select count(*) as n from messages where status = $1', [
        status,
      ]);
      return Number(result.rows[0]?.n ?? 0);
    },
    countExisting: async (ids) => {
      const result = await pool.query<{ n: string }>(
        'select count(*) as n from messages where id = any($1)',
        [ids],
      );
      return Number(result.rows[0]?.n ?? 0);
    },
    close: () => pool.end(),
  };
}

export async function pgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function dropPgSchema(schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
