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
import { TicketStore } from '../../src/tickets/ticket-store.js';
import { isPostgresAvailable, TEST_PG_URL } from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

/** Runs `between` once: after the first statement that returns a row with `column`, before the next one. */
class BetweenStatements implements KyselyPlugin {
  fired = false;
  constructor(
    private readonly column: string,
    private readonly between: () => Promise<void>,
  ) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (!this.fired && args.result.rows.some((row) => this.column in row)) {
      this.fired = true;
      await this.between();
    }
    return args.result;
  }
}

/**
 * GET /api/messages/:id and GET /api/tickets/:id each read a row and what hangs from it in several
 * statements. A change that commits between them (a webhook: status `failed` and its events; an accept:
 * status, history and assignment) must not show up in one part and not another: on PostgreSQL's read
 * committed the later reads saw the new events beside the old status (a CI failure of webhooks.test.ts:
 * `fallback_queued` on the timeline of a message still `sent`).
 */
describe.skipIf(!hasPostgres)('a view comes from one snapshot (PostgreSQL)', () => {
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

  it('a message: does not mix a status change committed between the reads into the answer', async () => {
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
    const plugin = new BetweenStatements('recipient', failElsewhere);

    const view = await new MessageStore(database.db.withPlugin(plugin)).get(row.id);

    expect(plugin.fired).toBe(true);
    expect(view?.status).toBe('queued');
    expect(view?.events?.map((event) => event.status)).toEqual(['queued']);
    // The change is there for the next read, status and timeline together.
    const after = await new MessageStore(database.db).get(row.id);
    expect(after?.status).toBe('failed');
    expect(after?.events?.map((event) => event.status)).toEqual(['queued', 'failed']);
  });
  it('a ticket: does not mix a status change committed between the reads into the answer', async () => {
    const now = Date.now();
    const ticketId = newId();
    await new TicketStore(database.db, systemClock, () => '').insert(database.db, {
      id: ticketId,
      number: `T-SNAP-${ticketId.slice(-6)}`,
      title: null,
      description: 'Fuga en el baño',
      location: 'Chapinero',
      location_key: 'chapinero',
      specialty: 'Plomería',
      specialty_key: 'plomeria',
      address: null,
      reporter_name: null,
      reporter_phone: null,
      status: 'unassigned',
      provider_id: null,
      match_source: 'center',
      created_at: now,
      updated_at: now,
      current_assignment_id: null,
    });
    const escalateElsewhere = async (): Promise<void> => {
      await other.query('begin');
      await other.query(`update "${schema}".tickets set status = 'escalated' where id = $1`, [ticketId]);
      await other.query(
        `insert into "${schema}".ticket_events (id, ticket_id, type, at, detail) values ($1, $2, 'escalated', $3, null)`,
        [newId(), ticketId, Date.now()],
      );
      await other.query('commit');
    };
    const plugin = new BetweenStatements('location_key', escalateElsewhere);
    const mediaUrl = (ticket: string, media: string): string => `/api/tickets/${ticket}/media/${media}`;

    const view = await new TicketStore(database.db.withPlugin(plugin), systemClock, mediaUrl).get(ticketId);

    expect(plugin.fired).toBe(true);
    expect(view?.status).toBe('unassigned');
    expect(view?.history?.map((event) => event.type)).toEqual([]);
    const after = await new TicketStore(database.db, systemClock, mediaUrl).get(ticketId);
    expect(after?.status).toBe('escalated');
    expect(after?.history?.map((event) => event.type)).toEqual(['escalated']);
  });
});
