import { sql, type Kysely } from 'kysely';

/**
 * The dispatcher's claim reads "due outbound messages in queued/retrying, oldest due first". A partial
 * index on exactly that set keeps the claim an index walk however long the backlog (without it
 * PostgreSQL sorted the whole backlog on every claim: 164 ms at 100,000 queued, BENCHMARKS.md).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('messages_claimable_idx')
    .on('messages')
    .column('next_attempt_at')
    .where(sql.ref('status'), 'in', ['queued', 'retrying'])
    .where(sql.ref('direction'), '=', 'outbound')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('messages_claimable_idx').execute();
}
