import type { Kysely } from 'kysely';

/** The outbox: messages (the queue itself) and their timeline. Portable across SQLite and PostgreSQL. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('direction', 'text', (col) => col.notNull())
    .addColumn('phone_number_id', 'text', (col) => col.notNull())
    .addColumn('recipient', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('payload', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('wamid', 'text')
    .addColumn('idempotency_key', 'text', (col) => col.unique())
    .addColumn('request_hash', 'text')
    .addColumn('ticket_id', 'text')
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'bigint', (col) => col.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('messages_due_idx')
    .on('messages')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema.createIndex('messages_created_idx').on('messages').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('messages_recipient_idx').on('messages').column('recipient').execute();
  await db.schema.createIndex('messages_wamid_idx').on('messages').column('wamid').execute();
  await db.schema.createIndex('messages_ticket_idx').on('messages').column('ticket_id').execute();

  await db.schema
    .createTable('message_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('message_id', 'text', (col) => col.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('message_events_message_idx')
    .on('message_events')
    .columns(['message_id', 'at'])
    .execute();

  await db.schema
    .createTable('recipient_holds')
    .addColumn('recipient', 'text', (col) => col.primaryKey())
    .addColumn('until', 'bigint', (col) => col.notNull())
    .addColumn('failures', 'integer', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('recipient_holds').execute();
  await db.schema.dropTable('message_events').execute();
  await db.schema.dropTable('messages').execute();
}
