import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up as createThroughputSlots } from '../../src/db/migrations/0005-throughput-slots.js';
import { PostgresSlotStore, type SlotReservation } from '../../src/messages/throughput-limiter.js';
import { isPostgresAvailable, TEST_PG_URL } from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

/** The shared send schedule on PostgreSQL: one atomic statement, timed by the database's clock. */
describe.skipIf(!hasPostgres)('PostgreSQL throughput slots', () => {
  const schema = `slots_${randomBytes(6).toString('hex')}`;
  const pools: pg.Pool[] = [];

  function pool(): pg.Pool {
    const created = new pg.Pool({
      connectionString: TEST_PG_URL,
      max: 4,
      options: `-c search_path=${schema}`,
    });
    pools.push(created);
    return created;
  }

  async function databaseNow(target: pg.Pool): Promise<number> {
    const result = await target.query<{ now_ms: number }>(
      'select extract(epoch from clock_timestamp())::double precision * 1000 as now_ms',
    );
    return Number(result.rows[0]?.now_ms);
  }

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      await admin.query(`create schema "${schema}"`);
    } finally {
      await admin.end();
    }
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: pool() }) });
    await createThroughputSlots(db);
  });

  afterAll(async () => {
    await Promise.all(pools.map((created) => created.end()));
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      await admin.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await admin.end();
    }
  });

  it("returns the database's now, read in the same statement, and never a slot before it", async () => {
    const target = pool();
    const store = new PostgresSlotStore(target);
    const before = await databaseNow(target);
    const first = await store.reserve('clock', 4, 12.5);
    const after = await databaseNow(target);
    expect(first.now).toBeGreaterThanOrEqual(before);
    expect(first.now).toBeLessThanOrEqual(after);
    expect(first.startsAt).toBeCloseTo(first.now, 3);
    // The schedule is ahead now: the next reservation follows the first, still with the database's now.
    const second = await store.reserve('clock', 1, 12.5);
    expect(second.startsAt).toBeCloseTo(first.startsAt + 4 * 12.5, 3);
    expect(second.now).toBeGreaterThanOrEqual(first.now);
    expect(second.now).toBeLessThanOrEqual(await databaseNow(target));
  });

  it('a schedule left behind (idle, or written by a process with a slow clock) restarts at the database now', async () => {
    const target = pool();
    await target.query(`insert into throughput_slots (key, next_slot_at) values ('stale', $1)`, [
      (await databaseNow(target)) - 3_600_000,
    ]);
    const reservation = await new PostgresSlotStore(target).reserve('stale', 2, 10);
    expect(reservation.startsAt).toBeCloseTo(reservation.now, 3);
  });

  it('concurrent reservers in several pools (processes) get slots that never overlap', async () => {
    const interval = 1000 / 80;
    const processes = Array.from({ length: 4 }, () => new PostgresSlotStore(pool()));
    const taken: { reservation: SlotReservation; count: number }[] = [];
    await Promise.all(
      processes.flatMap((store, index) =>
        Array.from({ length: 4 }, async (_, worker) => {
          for (let round = 0; round < 15; round++) {
            const count = 1 + ((index + worker + round) % 4);
            taken.push({ reservation: await store.reserve('shared', count, interval), count });
          }
        }),
      ),
    );
    expect(taken).toHaveLength(4 * 4 * 15);
    const sorted = [...taken].sort((a, b) => a.reservation.startsAt - b.reservation.startsAt);
    for (let index = 1; index < sorted.length; index++) {
      const previous = sorted[index - 1];
      const current = sorted[index];
      if (previous === undefined || current === undefined) continue;
      const previousEnd = previous.reservation.startsAt + previous.count * interval;
      // Float ms since the epoch: allow a rounding error far below a microsecond.
      expect(current.reservation.startsAt).toBeGreaterThanOrEqual(previousEnd - 1e-3);
    }
    for (const { reservation } of taken)
      expect(reservation.startsAt).toBeGreaterThanOrEqual(reservation.now - 1e-3);
  });
});
