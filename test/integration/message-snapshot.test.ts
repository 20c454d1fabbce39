import { randomBytes } from 'node:crypto';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Database } from '../../src/db/database.js';
import { MessageStore } from '../../src/messages/message-store.js';
import { Outbox } from '../../src/messages/outbox.js';
import { systemClock } from '../../src/shared/clock.js';
import { newId } from '../../src/shared/ids.js';
import { isPostgresAvailable, TEST_PG_URL } from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

/** Runs `between` once: after the first statement that returns a `messages` row, before the next one. */
class BetweenStatements implements KyselyPlugin {
  fired = false;
  constructor(private readonly between: () => Promise<void>) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (!this.fired && args.result.rows.some((row) => 'recipient' in row)) {
      this.fired = true;
      await this.between();
    }
    return args.result;
  }
}

/**
 * GET /api/messages/:id reads a message and its timeline. A webhook that commits between the two reads
 * (status `failed` and its events in one transaction) must not show up in one and not the other: on
 * PostgreSQL's read committed the second read saw the new events beside the old status (a CI failure of
 * webhooks.test.ts: `fallback_queued` on the timeline of a message still `sent`).
 */
describe.skipIf(!hasPostgres)('a message and its timeline come from one snapshot (PostgreSQL)', () => {
  const schema = `snapshot_${randomBytes(4).toString('hex')}`;
  let database: Database;
  let other: pg.Client;

  beforeAll(async () => {
    database = openDatabase({ url: TEST_PG_URL, sqliteFile: '', pgSchema: schema });
    await migrateToLatest(database, schema);
    other = new pg.Client({ connectionString: TEST_PG_URL });
    await other.connect();
  });
  afterAll(async () => {
    await other?.query(`drop schema if exists "${schema}" cascade`);
    await other?.end();
    await database?.close();
  });

  it('does not mix a status change committed between the reads into the answer', async () => {
    const outbox = new Outbox(database.db, 'postgres', '100000000000001', systemClock);
    const { row } = await outbox.enqueue({ to: '573001112233', message: { kind: 'text', body: 'hola' } });
    const failElsewhere = async (): Promise<void> => {
      await other.query('begin');
      await other.query(`update "${schema}".messages set status = 'failed' where id = $1`, [row.id]);
      await other.query(
        `insert into "${schema}".message_events (id, message_id, status, at, detail) values ($1, $2, 'failed', $3, null)`,
        [newId(), row.id, Date.now()],
      );
      await other.query('commit');
    };
    const plugin = new BetweenStatements(failElsewhere);

    const view = await new MessageStore(database.db.withPlugin(plugin)).get(row.id);

    expect(plugin.fired).toBe(true);
    expect(view?.status).toBe('queued');
    expect(view?.events?.map((event) => event.status)).toEqual(['queued']);
    // The change is there for the next read, status and timeline together.
    const after = await new MessageStore(database.db).get(row.id);
    expect(after?.status).toBe('failed');
    expect(after?.events?.map((event) => event.status)).toEqual(['queued', 'failed']);
  });
});
