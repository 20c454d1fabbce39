import type { Kysely } from 'kysely';

/** The shared send schedule per business number (see src/messages/throughput-limiter.ts). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('throughput_slots')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('next_slot_at', 'double precision', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('throughput_slots').execute();
}
