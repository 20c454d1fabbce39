import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../../test/helpers/memory-database.js';
import { Outbox } from './outbox.js';

const LEASE_MS = 1000;

describe('Outbox leases', () => {
  let database: Database;
  let now: number;
  let outbox: Outbox;

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 30, 12);
    database = await openMemoryDatabase();
    outbox = new Outbox(database.db, 'sqlite', '100000000000555', { now: () => now });
    for (let i = 0; i < 4; i++) {
      await outbox.enqueue({
        to: '573005550000',
        message: { kind: 'text', body: `message ${i}` },
        fallback: null,
        idempotencyKey: null,
        requestHash: null,
      });
    }
  });
  afterEach(async () => {
    await database.close();
  });

  const byId = async () =>
    new Map(
      (await database.db.selectFrom('messages').selectAll().execute()).map((row) => [row.id, row] as const),
    );

  it('renewing keeps the claims a live process is working on: only the others are reclaimed', async () => {
    const [working, unrecorded] = await outbox.claimDue(2, 'alive', LEASE_MS);
    const theirs = await outbox.claimDue(2, 'dead', LEASE_MS);
    expect(working).toBeDefined();
    expect(unrecorded).toBeDefined();
    expect(theirs).toHaveLength(2);

    now += 900;
    // `unrecorded` is one whose outcome this process could not write (the database was away): not renewed.
    expect(await outbox.renewLeases('alive', [working?.id ?? ''], LEASE_MS)).toBe(now + LEASE_MS);
    now += 500; // past the first expiry
    expect(await outbox.reclaimExpiredLeases(10)).toBe(3);

    const rows = await byId();
    expect(rows.get(working?.id ?? '')).toMatchObject({
      status: 'sending',
      lease_owner: 'alive',
      attempts: 1,
    });
    for (const row of [unrecorded, ...theirs]) {
      expect(rows.get(row?.id ?? '')).toMatchObject({ status: 'retrying', lease_owner: null });
    }
  });

  it('hands back claims a process will not send: due again, attempt refunded, only its own', async () => {
    const mine = await outbox.claimDue(2, 'me', LEASE_MS);
    const theirs = await outbox.claimDue(1, 'other', LEASE_MS);
    const ids = [...mine, ...theirs].map((row) => row.id);

    expect(await outbox.releaseClaims(ids, 'me')).toBe(2);

    const rows = await byId();
    for (const row of mine) {
      expect(rows.get(row.id)).toMatchObject({
        status: 'queued',
        attempts: 0,
        lease_owner: null,
        lease_expires_at: null,
      });
    }
    expect(rows.get(theirs[0]?.id ?? '')).toMatchObject({ status: 'sending', lease_owner: 'other' });
    // Released rows are claimable again at once (with the one never claimed); the other's stays its.
    const next = (await outbox.claimDue(10, 'next', LEASE_MS)).map((row) => row.id);
    expect(next).toHaveLength(3);
    expect(next).toEqual(expect.arrayContaining(mine.map((row) => row.id)));
    expect(next).not.toContain(theirs[0]?.id);
  });
});
