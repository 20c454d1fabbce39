import type { Kysely } from 'kysely';

/**
 * Meta's webhooks: raw deliveries kept before answering (so none is lost), status updates deduplicated by
 * (wamid, status) and kept even when the wamid is not known yet, per-number 24-hour windows, and a message's
 * template fallback for when its free-form version is refused outside the window (131047).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('received_at', 'bigint', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('processed_at', 'bigint')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_pending_idx')
    .on('webhook_deliveries')
    .columns(['processed_at', 'received_at'])
    .execute();

  await db.schema
    .createTable('message_status_updates')
    .addColumn('wamid', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('message_id', 'text')
    .addColumn('callback_data', 'text')
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('detail', 'text')
    .addColumn('received_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('message_status_updates_pk', ['wamid', 'status'])
    .execute();
  await db.schema
    .createIndex('message_status_updates_unmatched_idx')
    .on('message_status_updates')
    .columns(['message_id', 'wamid'])
    .execute();

  await db.schema
    .createTable('conversation_windows')
    .addColumn('phone', 'text', (col) => col.primaryKey())
    .addColumn('last_inbound_at', 'bigint', (col) => col.notNull())
    .execute();

  await db.schema.alterTable('messages').addColumn('fallback_payload', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('fallback_payload').execute();
  await db.schema.dropTable('conversation_windows').execute();
  await db.schema.dropTable('message_status_updates').execute();
  await db.schema.dropTable('webhook_deliveries').execute();
}
