import { sql, type Kysely } from 'kysely';

/**
 * Every index on `messages` is written by every accepted notify request, so each must earn its keep
 * (BENCHMARKS.md, scenario a). Three are narrowed to the rows their queries actually look for:
 * - `messages_due_idx` (status, next_attempt_at) served the lease sweep's "sending and expired" and was
 *   superseded for the claim by `messages_claimable_idx`; the sweep now reads a partial index of the
 *   in-flight rows only (a few hundred at most), which a queued message never enters.
 * - `messages_wamid_idx` and `messages_ticket_idx` skip the NULLs a fresh notify message carries:
 *   `wamid = ?` and `ticket_id = ?` imply IS NOT NULL, so both databases still use them.
 * And the `queued` event row each message got is gone: a message's timeline starts at its `created_at`
 * (src/messages/message.ts, queuedEvent), so the rows written before are deleted, not shown twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`delete from message_events where status = 'queued'`.execute(db);
  await db.schema.dropIndex('messages_due_idx').execute();
  await db.schema
    .createIndex('messages_lease_idx')
    .on('messages')
    .column('lease_expires_at')
    .where(sql.ref('status'), '=', 'sending')
    .execute();
  await db.schema.dropIndex('messages_wamid_idx').execute();
  await db.schema
    .createIndex('messages_wamid_idx')
    .on('messages')
    .column('wamid')
    .where(sql.ref('wamid'), 'is not', null)
    .execute();
  await db.schema.dropIndex('messages_ticket_idx').execute();
  await db.schema
    .createIndex('messages_ticket_idx')
    .on('messages')
    .column('ticket_id')
    .where(sql.ref('ticket_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The deleted `queued` events are not restored: readers of this version's schema derive them.
  await db.schema.dropIndex('messages_ticket_idx').execute();
  await db.schema.createIndex('messages_ticket_idx').on('messages').column('ticket_id').execute();
  await db.schema.dropIndex('messages_wamid_idx').execute();
  await db.schema.createIndex('messages_wamid_idx').on('messages').column('wamid').execute();
  await db.schema.dropIndex('messages_lease_idx').execute();
  await db.schema
    .createIndex('messages_due_idx')
    .on('messages')
    .columns(['status', 'next_attempt_at'])
    .execute();
}
