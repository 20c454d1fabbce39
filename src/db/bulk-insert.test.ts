import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkInsert } from './bulk-insert.js';
import type { Database } from './database.js';
import { openMemoryDatabase } from '../../test/helpers/memory-database.js';

describe('BulkInsert', () => {
  let database: Database;

  beforeEach(async () => {
    database = await openMemoryDatabase();
  });
  afterEach(async () => {
    await database.close();
  });

  const event = (id: string, detail: string | null) => ({
    id,
    message_id: 'm1',
    status: 'sent',
    at: 1000 + Number(id.slice(1)),
    detail,
  });

  it('writes every row with each value in its own column, for batches of any size', async () => {
    const { db } = database;
    await db
      .insertInto('messages')
      .values({
        id: 'm1',
        direction: 'outbound',
        phone_number_id: 'p',
        recipient: '573001112233',
        kind: 'text',
        payload: '{}',
        status: 'queued',
        attempts: 0,
        next_attempt_at: 0,
        created_at: 0,
        updated_at: 0,
      })
      .execute();
    const insert = new BulkInsert(db, 'message_events', ['id', 'message_id', 'status', 'at', 'detail']);
    await insert.execute(db, [event('e1', null)]);
    await insert.execute(db, [event('e2', '{"a":1}'), event('e3', null), event('e4', 'x')]);
    await insert.execute(db, [event('e5', null)]); // the one-row text again, from the cache
    await insert.execute(db, []);

    const rows = await db.selectFrom('message_events').selectAll().orderBy('id').execute();
    expect(rows).toEqual([
      event('e1', null),
      event('e2', '{"a":1}'),
      event('e3', null),
      event('e4', 'x'),
      event('e5', null),
    ]);
  });

  it('runs inside the caller’s transaction: a failure rolls the rows back', async () => {
    const { db } = database;
    const insert = new BulkInsert(db, 'message_events', ['id', 'message_id', 'status', 'at', 'detail']);
    // No message m1: the deferred foreign-key check fails the commit, and the written row goes with it.
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`pragma defer_foreign_keys = on`.execute(trx);
        await insert.execute(trx, [event('e1', null)]);
      }),
    ).rejects.toThrow(/FOREIGN KEY/);
    expect(await db.selectFrom('message_events').selectAll().execute()).toEqual([]);
  });
});
