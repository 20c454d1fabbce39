import type { Kysely } from 'kysely';

/** Providers (with normalized location/specialty keys for matching), tickets, their media and history. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('providers')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('phone', 'text', (col) => col.notNull().unique())
    .addColumn('location', 'text', (col) => col.notNull())
    .addColumn('location_key', 'text', (col) => col.notNull())
    .addColumn('specialties', 'text', (col) => col.notNull())
    .addColumn('active', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('source', 'text', (col) => col.notNull().defaultTo('local'))
    .addColumn('last_assigned_at', 'bigint')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('providers_location_idx')
    .on('providers')
    .columns(['location_key', 'active'])
    .execute();

  await db.schema
    .createTable('provider_specialties')
    .addColumn('provider_id', 'text', (col) => col.notNull().references('providers.id').onDelete('cascade'))
    .addColumn('specialty_key', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('provider_specialties_pk', ['provider_id', 'specialty_key'])
    .execute();
  await db.schema
    .createIndex('provider_specialties_key_idx')
    .on('provider_specialties')
    .column('specialty_key')
    .execute();

  await db.schema
    .createTable('tickets')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('number', 'text', (col) => col.notNull().unique())
    .addColumn('title', 'text')
    .addColumn('description', 'text', (col) => col.notNull())
    .addColumn('location', 'text', (col) => col.notNull())
    .addColumn('location_key', 'text', (col) => col.notNull())
    .addColumn('specialty', 'text', (col) => col.notNull())
    .addColumn('specialty_key', 'text', (col) => col.notNull())
    .addColumn('address', 'text')
    .addColumn('reporter_name', 'text')
    .addColumn('reporter_phone', 'text')
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('provider_id', 'text', (col) => col.references('providers.id').onDelete('set null'))
    .addColumn('match_source', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('tickets_created_idx').on('tickets').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('tickets_status_idx').on('tickets').column('status').execute();
  await db.schema.createIndex('tickets_provider_idx').on('tickets').column('provider_id').execute();
  await db.schema.createIndex('tickets_location_idx').on('tickets').column('location_key').execute();

  await db.schema
    .createTable('ticket_media')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('ticket_id', 'text', (col) => col.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('storage_key', 'text', (col) => col.notNull())
    .addColumn('filename', 'text', (col) => col.notNull())
    .addColumn('content_type', 'text', (col) => col.notNull())
    .addColumn('size', 'bigint', (col) => col.notNull())
    .addColumn('sha256', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('ticket_media_ticket_idx').on('ticket_media').column('ticket_id').execute();

  await db.schema
    .createTable('ticket_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('ticket_id', 'text', (col) => col.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('ticket_events_ticket_idx')
    .on('ticket_events')
    .columns(['ticket_id', 'at'])
    .execute();

  /** Per-year ticket number sequence (T-2026-00042), portable across SQLite and PostgreSQL. */
  await db.schema
    .createTable('ticket_counters')
    .addColumn('year', 'integer', (col) => col.primaryKey())
    .addColumn('value', 'integer', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'ticket_counters',
    'ticket_events',
    'ticket_media',
    'tickets',
    'provider_specialties',
    'providers',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
